// The host console's co-host panel: invite an associate or a guest by link, then mute or
// remove them. The room pushes every change ("cohost"), to this console and all others.
import { onRoom } from "./live-room.js";
import { api } from "./ui.js";

const panel = document.getElementById("cohost-panel");
const showId = Number(panel.dataset.showId);
const words = JSON.parse(panel.dataset.words);
const $ = (id) => document.getElementById(id);
let cohost = JSON.parse(panel.dataset.state);

const say = (key) => words[key].replace("%(name)s", cohost ? cohost.name : "");

function render(next) {
  cohost = next && (next.status === "invited" || next.status === "accepted") ? next : null;
  let key = "none";
  if (cohost) key = cohost.status === "invited" ? "invited" : cohost.on_air ? (cohost.muted ? "muted" : "on_air") : "accepted";
  $("cohost-status").textContent = say(key);
  $("cohost-status").dataset.state = key;
  $("cohost-controls").hidden = !cohost;
  $("cohost-invite").hidden = Boolean(cohost);
  if (!cohost) $("cohost-link-box").hidden = true;
  const mute = $("cohost-mute");
  mute.textContent = cohost && cohost.muted ? words.unmute : words.mute;
  mute.setAttribute("aria-pressed", cohost && cohost.muted ? "true" : "false");
  mute.disabled = !cohost || cohost.status !== "accepted";
}

async function call(path, body) {
  $("cohost-error").textContent = "";
  try {
    return await api(path, { method: "POST", body });
  } catch (err) {
    $("cohost-error").textContent = err.message;
    return null;
  }
}

async function invite(body) {
  const answer = await call(`/console/shows/${showId}/cohost`, body);
  if (!answer) return;
  render(answer.cohost);
  $("cohost-link").value = answer.link;
  $("cohost-link-words").textContent = answer.cohost.invited_as === "guest" ? words.link_ready : words.associate_link;
  $("cohost-link-box").hidden = false;
  $("cohost-link").select();
}

$("cohost-associate-form").addEventListener("submit", (event) => {
  event.preventDefault();
  invite({ associate_id: Number($("cohost-associate").value) });
});
$("cohost-guest-form").addEventListener("submit", (event) => {
  event.preventDefault();
  invite({ guest_name: $("cohost-guest-name").value });
});
$("cohost-mute").addEventListener("click", async () => {
  if (!cohost) return;
  const answer = await call(`/console/cohosts/${cohost.cohost_id}/mute`, { muted: !cohost.muted });
  if (answer) render(answer.cohost);
});
$("cohost-remove").addEventListener("click", async () => {
  if (!cohost) return;
  const answer = await call(`/console/cohosts/${cohost.cohost_id}/remove`, {});
  if (answer) render(answer.cohost);
});

onRoom((room) => {
  room.addEventListener("cohost", (event) => {
    // A new invitation replaces the link box only on the console that made it.
    if (!cohost || event.detail.cohost_id === cohost.cohost_id || event.detail.status === "invited") render(event.detail);
  });
  room.addEventListener("joined", (event) => render(event.detail.state.cohost || null));
});
render(cohost);
