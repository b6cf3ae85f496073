// The co-host's page: camera and microphone preview, join and leave the show, and what
// the host decides (mute, remove) as it is pushed over the show's room (the "cohost" event).
import { LiveRoom } from "./live-room.js";
import { publish } from "./media.js";
import { api, readJson } from "./ui.js";

const root = document.getElementById("cohost-root");
const cohostId = Number(root.dataset.cohostId);
const words = readJson("cohost-words", {});
const $ = (id) => document.getElementById(id);

let stream = null;
let publisher = null;
let showLive = root.dataset.status === "live";
let over = false; // removed or the show ended: nothing more to do here

function badge(state) {
  const node = $("cohost-state");
  node.dataset.state = state;
  // A short word on the badge; the full sentence goes in the notice below it.
  node.textContent = words[`${state}_badge`] || words[state] || state;
}

function notice(text) {
  $("cohost-notice").textContent = text || "";
  $("cohost-notice").hidden = !text;
}

function renderButtons() {
  $("cohost-join").disabled = over || !stream || !showLive || Boolean(publisher);
  $("cohost-join").hidden = Boolean(publisher);
  $("cohost-leave").hidden = !publisher;
  $("cohost-camera").disabled = over;
  $("cohost-hint").textContent = !showLive && !over ? words.waiting : "";
}

async function startCamera() {
  try {
    const next = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = next;
    $("cohost-preview").srcObject = stream;
    if (!publisher) badge("preview");
  } catch (err) {
    badge("camera_off");
    notice(words.no_camera);
  }
  renderButtons();
}

const onAir = (value) => api(`/cohost/stage/${cohostId}/on-air`, { method: "POST", body: { on_air: value } })
  .catch(() => {}); // the relay's own status still tells viewers; this only labels

async function join() {
  if (!stream || publisher) return;
  badge("connecting");
  try {
    publisher = await publish(stream, () => api(`/cohost/stage/${cohostId}/grant`, { method: "POST" }));
  } catch (err) {
    publisher = null;
    badge("failed");
    notice(err.message);
    renderButtons();
    return;
  }
  publisher.addEventListener("statechange", (event) => {
    badge(event.detail);
    if (event.detail === "live") onAir(true);
  });
  if (publisher.state === "live") { badge("live"); onAir(true); }
  renderButtons();
}

function leave(state = "closed") {
  if (publisher) {
    publisher.close();
    publisher = null;
    if (state === "closed") onAir(false);
  }
  badge(state);
  renderButtons();
}

function finish(state) {
  over = true;
  leave(state);
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  $("cohost-preview").srcObject = null;
  notice(words[state]);
  renderButtons();
}

function onCohost(state) {
  if (!state || state.cohost_id !== cohostId) return;
  if (state.status === "removed" || state.status === "withdrawn") { finish("removed"); return; }
  const wasMuted = root.dataset.muted === "true";
  root.dataset.muted = state.muted ? "true" : "false";
  if (state.muted) notice(words.muted);
  else if (wasMuted) notice(words.unmuted);
}

const room = new LiveRoom({ sessionId: root.dataset.sessionId });
room.addEventListener("relay_moved", (event) => { if (publisher) publisher.moved(event.detail.relay_url); });
room.addEventListener("joined", (event) => {
  const { state } = event.detail;
  showLive = state.status === "live";
  onCohost(state.cohost);
  renderButtons();
});
room.addEventListener("cohost", (event) => onCohost(event.detail));
room.addEventListener("show_state", (event) => {
  const { status } = event.detail;
  showLive = status === "live";
  if (status === "ended" || status === "cancelled") finish("ended");
  renderButtons();
});
room.connect();

$("cohost-camera").addEventListener("click", startCamera);
$("cohost-join").addEventListener("click", join);
$("cohost-leave").addEventListener("click", () => leave());
window.addEventListener("pagehide", () => { if (publisher) publisher.close(); });
renderButtons();
