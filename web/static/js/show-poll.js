// A show's poll (web/templates/shows/_poll.html; sessions/shows/polls.py).
// Host console: open a poll, watch its results, close it. Show page: vote once, see the
// results live (the `poll` push). Replay: each poll appears at its moment of the video.
// The page's LiveRoom (show.js, console-host.js) carries it: found with onRoom.
import { onRoom } from "./live-room.js";
import { el, readJson, t, tn, untilText } from "./ui.js";

const root = document.getElementById("show-poll");
const current = document.getElementById("poll-current");
const errorBox = document.getElementById("poll-error");
const form = document.getElementById("poll-form");
const isHost = root && root.dataset.role === "host";
const sessionId = root ? Number(root.dataset.sessionId) : 0;
const polls = new Map(); // id -> poll, as the server sends it
let voted = {}; // poll id -> answer id
let room = null;
// A replay plays its polls from the page's script, on the recording's clock (the chat's
// and the products'), not from the room: each at the second it was opened, final results.
const replay = document.getElementById("replay");
const script = replay ? readJson("replay-script", null) : null;

function say(message) { errorBox.textContent = message || ""; }

function isOpen(poll) { return !poll.closed && new Date(poll.closes_at).getTime() > Date.now(); }

function shown() {
  const all = [...polls.values()].sort((a, b) => a.id - b.id);
  if (replay) return all.filter((p) => p.at_seconds <= replay.currentTime + 0.05).pop() || null;
  return all.pop() || null;
}

function percent(part, whole) { return whole ? Math.round((100 * part) / whole) : 0; }

function results(poll) {
  return el("ul", { class: "poll-answers" }, ...poll.answers.map((answer) => {
    const mine = String(voted[poll.id]) === String(answer.id);
    return el("li", { class: "poll-result" },
      el("span", { text: mine ? t("%(answer)s (your vote)", { answer: answer.label }) : answer.label }),
      el("span", { text: `${answer.votes} · ${percent(answer.votes, poll.votes)}%` }),
      el("progress", { max: String(Math.max(poll.votes, 1)), value: String(answer.votes),
        "aria-label": t("%(answer)s: %(votes)s of %(total)s votes", { answer: answer.label, votes: answer.votes, total: poll.votes }) }));
  }));
}

function ballot(poll) {
  return el("ul", { class: "poll-answers" }, ...poll.answers.map((answer) =>
    el("li", {}, el("button", { type: "button", "data-answer": answer.id, text: answer.label,
      onclick: () => vote(poll, answer) }))));
}

function render() {
  if (!current) return;
  const poll = shown();
  if (!poll) { current.replaceChildren(el("p", { class: "empty", text: t("No poll right now.") })); return; }
  const open = !replay && isOpen(poll);
  const canVote = open && !isHost && voted[poll.id] === undefined;
  const meta = open ? tn("%(votes)s vote · closes in %(time)s", "%(votes)s votes · closes in %(time)s", poll.votes, { votes: poll.votes, time: untilText(new Date(poll.closes_at).getTime()) })
    : tn("%(votes)s vote · final results", "%(votes)s votes · final results", poll.votes, { votes: poll.votes });
  const parts = [el("p", { class: "poll-question", id: "poll-question-text", text: poll.question }),
    canVote ? ballot(poll) : results(poll), el("p", { class: "poll-meta", id: "poll-meta", text: meta })];
  if (isHost && open) {
    parts.push(el("div", { class: "actions" }, el("button", { type: "button", id: "poll-close", text: t("Close the poll"),
      onclick: () => close(poll) })));
  }
  current.replaceChildren(...parts);
  if (form) form.hidden = open; // one open poll at a time
}

function take(poll) {
  const known = polls.get(poll.id);
  // A push may overtake an answer it follows: keep the one that knows more.
  if (!known || poll.votes >= known.votes || poll.closed) polls.set(poll.id, poll);
  render();
}

async function vote(poll, answer) {
  say("");
  const ack = await room.request("poll_vote", { poll_id: poll.id, answer_id: answer.id });
  if (!ack.ok) { say(ack.message); if (ack.error === "already_voted") voted[poll.id] = answer.id; render(); return; }
  voted[poll.id] = answer.id;
  take(ack.poll);
}

async function close(poll) {
  say("");
  const ack = await room.request("poll_close", { poll_id: poll.id });
  if (!ack.ok) say(ack.message); else take(ack.poll);
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("");
    const answers = [...form.querySelectorAll('input[name="answer"]')].map((i) => i.value.trim()).filter(Boolean);
    if (answers.length < 2) { say(t("Give at least two answers.")); return; }
    const ack = await room.request("poll_create", {
      question: form.question.value, answers, seconds: Number(form.seconds.value),
    });
    if (!ack.ok) { say(ack.message); return; }
    form.reset();
    take(ack.poll);
  });
}

function load(state) {
  const interaction = state && state.interaction;
  if (!interaction || script) return;
  for (const poll of interaction.polls) take(poll);
  voted = { ...interaction.voted, ...voted };
  render();
}

onRoom((found) => {
  if (!root || found.sessionId !== sessionId || room) return;
  room = found;
  room.addEventListener("joined", (event) => load(event.detail.state));
  room.addEventListener("poll", (event) => { if (!script) take(event.detail); });
  if (room.roomState) load(room.roomState); // joined before this module found it
});

if (script) for (const poll of script.polls || []) polls.set(poll.id, poll);
if (replay) for (const event of ["timeupdate", "seeked", "loadedmetadata"]) replay.addEventListener(event, render);
render();
// The countdown's words tick on this page's clock; results only ever come by push.
setInterval(() => {
  const poll = shown();
  const meta = document.getElementById("poll-meta");
  if (!poll || replay || !meta || !isOpen(poll)) return;
  meta.textContent = tn("%(votes)s vote · closes in %(time)s", "%(votes)s votes · closes in %(time)s", poll.votes, { votes: poll.votes, time: untilText(new Date(poll.closes_at).getTime()) });
}, 1000);
