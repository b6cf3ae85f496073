// Messages left (console/messages.html): the brand's open and answered messages, an
// answer form on each open one (POST /api/messages/<id>/answer: the shopper gets it by
// e-mail). A new message is pushed (`message_left`); the list is read again then, and
// whenever the socket (re)connects, so nothing is missed while it was away.

import { api, el } from "./ui.js";
import { st, tn, when } from "./strings.js";
import { consoleSocket } from "./console-presence.js";

const root = document.querySelector("[data-messages-left]");
if (root) start(root);

function start(root) {
  const brandId = Number(root.dataset.brandId);
  const state = root.querySelector("[data-messages-state]");
  const lists = { open: root.querySelector('[data-list="open"]'), answered: root.querySelector('[data-list="answered"]') };
  const counts = { open: root.querySelector('[data-count="open"]'), answered: root.querySelector('[data-count="answered"]') };
  const drafts = new Map(); // message id -> what was typed, kept across a re-render
  const done = new Map(); // message id -> the sentence shown after answering
  let known = null; // ids seen, to announce the new ones

  function openItem(m) {
    const li = el("li", { class: "message", "data-message-id": m.id });
    li.append(
      el("p", { class: "message-from" }, el("strong", { text: m.name }), ` <${m.email}> · `, el("time", { datetime: m.created_at, text: when(m.created_at) })),
      el("blockquote", { text: m.body }),
    );
    const id = `answer-${m.id}`;
    const area = el("textarea", { id, name: "answer", rows: "3", maxlength: "5000", required: true });
    area.value = drafts.get(m.id) || "";
    area.addEventListener("input", () => drafts.set(m.id, area.value));
    const error = el("p", { class: "error", role: "alert" });
    const send = el("button", { type: "submit", class: "primary small", text: st("sendByEmail") });
    const form = el("form", { class: "answer-form", "data-answer-form": true },
      el("label", { for: id, text: st("yourAnswerTo", { name: m.name }) }), area, send, error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = area.value.trim();
      if (!answer) { error.textContent = st("writeFirst"); area.focus(); return; }
      send.disabled = true;
      error.textContent = "";
      send.textContent = st("sending");
      try {
        const out = await api(`/api/messages/${m.id}/answer`, { method: "POST", body: { answer } });
        drafts.delete(m.id);
        const sent = st("answeredSent", { when: when(out.answered_at), email: out.email });
        done.set(m.id, sent);
        state.textContent = sent;
        await refresh();
      } catch (err) {
        send.disabled = false;
        send.textContent = st("sendByEmail");
        error.textContent = err.status === 409
          ? st("movedToAnswered", { error: err.message })
          : st("notSent", { error: err.message });
        if (err.status === 409) refresh({ quiet: true });
      }
    });
    li.append(form);
    return li;
  }

  function answeredItem(m) {
    const li = el("li", { class: "message answered", "data-message-id": m.id });
    li.append(
      el("p", { class: "message-from" }, el("strong", { text: m.name }), ` <${m.email}> · `, el("time", { datetime: m.created_at, text: when(m.created_at) })),
      el("blockquote", { text: m.body }),
      el("p", { class: "message-answer" }, el("strong", { text: st("answeredAt", { when: when(m.answered_at) }) }), m.answer),
    );
    if (done.has(m.id)) li.append(el("p", { class: "muted", "data-answer-result": true, text: done.get(m.id) }));
    return li;
  }

  function render(rows) {
    const open = rows.filter((m) => !m.answered_at);
    const answered = rows.filter((m) => m.answered_at).reverse(); // the latest first
    const focused = document.activeElement && document.activeElement.id;
    lists.open.replaceChildren(...(open.length ? open.map(openItem) : [el("li", { class: "empty", text: st("noneWaiting") })]));
    lists.answered.replaceChildren(...(answered.length ? answered.map(answeredItem) : [el("li", { class: "empty", text: st("noneAnswered") })]));
    counts.open.textContent = `(${open.length})`;
    counts.answered.textContent = `(${answered.length})`;
    if (focused) document.getElementById(focused)?.focus();
    return open;
  }

  async function refresh({ quiet = false } = {}) {
    let rows;
    try {
      rows = await api(`/api/brands/${brandId}/messages`);
    } catch (err) {
      state.textContent = st("loadFailed", { error: err.message });
      return;
    }
    const open = render(rows);
    const fresh = known ? rows.filter((m) => !known.has(m.id)) : [];
    known = new Set(rows.map((m) => m.id));
    if (fresh.length) state.textContent = fresh.length === 1 ? st("newFrom", { name: fresh[0].name }) : tn("newMessages", fresh.length);
    else if (!quiet && !done.size) state.textContent = open.length ? tn("waiting", open.length) : st("nothingWaiting");
    root.dataset.loaded = "true";
  }

  refresh();
  consoleSocket.then((socket) => {
    if (!socket) return;
    socket.on("message_left", () => refresh());
    socket.on("connect", () => { root.dataset.live = "true"; if (known) refresh({ quiet: true }); });
    if (socket.connected) root.dataset.live = "true";
  });
}
