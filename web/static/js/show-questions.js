// A show's questions (web/templates/shows/_questions.html; sessions/shows/questions.py).
// Show page: ask, upvote once each, see the question the host answered pinned over the
// video. Host console: the list by upvotes, "Answered on air" (pins it for viewers) and
// "Hide". Replay: each question appears at its moment, the answered one pinned at its own.
// Everything arrives by push (`question`, `question_pinned`) on the page's LiveRoom.
import { onRoom } from "./live-room.js";
import { el, readJson, t, tn } from "./ui.js";

const root = document.getElementById("show-questions");
const list = document.getElementById("question-list");
const empty = document.getElementById("question-empty");
const errorBox = document.getElementById("question-error");
const form = document.getElementById("question-form");
const pinnedBox = document.getElementById("pinned-question");
const pinnedText = document.getElementById("pinned-question-text");
const isHost = root && root.dataset.role === "host";
const sessionId = root ? Number(root.dataset.sessionId) : 0;
const questions = new Map(); // id -> question
const upvoted = new Set();
const mine = new Set(); // asked from this page
let pinned = null;
let room = null;
// A replay plays its questions from the page's script, on the recording's clock (the
// chat's and the products'), not from the room: each at the second it was asked, pinned
// over the video from the second it was answered.
const replay = document.getElementById("replay");
const script = replay ? readJson("replay-script", null) : null;

function say(message) { errorBox.textContent = message || ""; }

function visible() {
  let all = [...questions.values()].filter((q) => !q.hidden);
  if (replay) all = all.filter((q) => q.at_seconds <= replay.currentTime + 0.05);
  return all.sort((a, b) => b.upvotes - a.upvotes || a.id - b.id);
}

function pinnedNow() {
  if (!replay) return pinned && !pinned.hidden ? pinned : null;
  const t = replay.currentTime;
  return [...questions.values()]
    .filter((q) => !q.hidden && q.answered_at_seconds !== null && q.answered_at_seconds <= t + 0.05)
    .sort((a, b) => a.answered_at_seconds - b.answered_at_seconds).pop() || null;
}

function item(q) {
  const actions = el("div", { class: "question-actions" });
  if (isHost) {
    actions.append(
      el("span", { text: tn("%(n)s upvote", "%(n)s upvotes", q.upvotes) }),
      el("button", { type: "button", class: q.answered ? "" : "primary", "data-answer": q.id,
        "aria-pressed": q.answered ? "true" : "false", text: q.answered ? t("Answered on air (pin again)") : t("Answered on air"),
        onclick: () => act("question_answer", q) }),
      el("button", { type: "button", class: "danger", "data-hide": q.id, text: t("Hide"),
        onclick: () => act("question_hide", q) }));
  } else {
    const done = upvoted.has(q.id);
    actions.append(el("button", { type: "button", "data-upvote": q.id, "aria-pressed": done ? "true" : "false",
      disabled: done || mine.has(q.id) || Boolean(replay),
      "aria-label": t("Upvote %(n)s: %(question)s", { n: q.upvotes, question: q.body }), text: t("Upvote %(n)s", { n: q.upvotes }),
      onclick: () => act("question_upvote", q) }));
    if (q.answered) actions.append(el("span", { class: "pill", text: t("Answered on air") }));
  }
  return el("li", { class: q.answered ? "answered" : "", "data-question": q.id },
    el("span", { text: q.body }), el("span", { class: "question-by", text: q.author }), actions);
}

function render() {
  const shown = visible();
  list.replaceChildren(...shown.map(item));
  empty.hidden = shown.length > 0;
  const now = pinnedNow();
  pinnedBox.hidden = !now;
  pinnedText.textContent = now ? now.body : "";
}

function take(q) {
  const known = questions.get(q.id);
  if (!known || q.hidden || q.upvotes >= known.upvotes || q.answered_at !== known.answered_at) questions.set(q.id, q);
  if (pinned && pinned.id === q.id) pinned = q;
  render();
}

async function act(event, q) {
  say("");
  const ack = await room.request(event, { question_id: q.id });
  if (!ack.ok) { say(ack.message); if (ack.error === "already_upvoted") upvoted.add(q.id); render(); return; }
  if (event === "question_upvote") upvoted.add(q.id);
  take(ack.question);
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("");
    const ack = await room.request("question_ask", { body: form.body.value });
    if (!ack.ok) { say(ack.message); return; }
    mine.add(ack.question.id);
    form.reset();
    take(ack.question);
  });
}

function load(state) {
  const interaction = state && state.interaction;
  if (form && state && state.status === "ended") form.hidden = true;
  if (!interaction || script) return;
  for (const q of interaction.questions) take(q);
  for (const id of interaction.upvoted) upvoted.add(id);
  pinned = interaction.pinned_question;
  if (pinned) questions.set(pinned.id, pinned);
  if (form) form.hidden = state.status === "ended";
  render();
}

// Over the video for viewers (the stage of the show page, or its replay).
const stage = !isHost && document.querySelector(".stage");
if (stage && pinnedBox) stage.append(pinnedBox);

onRoom((found) => {
  if (!root || found.sessionId !== sessionId || room) return;
  room = found;
  room.addEventListener("joined", (event) => load(event.detail.state));
  room.addEventListener("question", (event) => { if (!script) take(event.detail); });
  room.addEventListener("question_pinned", (event) => { if (!script) { pinned = event.detail; render(); } });
  if (room.roomState) load(room.roomState);
});

if (script) for (const q of script.questions || []) questions.set(q.id, q);
if (form && replay) form.hidden = true; // nobody answers a recording
if (replay) for (const event of ["timeupdate", "seeked", "loadedmetadata"]) replay.addEventListener(event, render);
if (script) render();
