// "Ask an associate": the shopper's chat on the product page and the brand home.
// The first question opens (or reuses) the shopper's thread; messages after it are
// pushed over Socket.IO (no polling), typing and read markers too.

import { api } from "./ui.js";
import { MessageLog, connectThreads, randomId, typingNotifier } from "./thread-view.js";

const panel = document.querySelector("[data-ask]");
if (panel) start(panel);

function start(root) {
  const brandId = Number(root.dataset.brandId);
  const productId = root.dataset.productId ? Number(root.dataset.productId) : null;
  const log = new MessageLog(root.querySelector("[data-ask-log]"), { ownSide: "shopper" });
  const status = root.querySelector("[data-ask-status]");
  const typing = root.querySelector("[data-ask-typing]");
  const form = root.querySelector("[data-ask-form]");
  const input = root.querySelector("[data-ask-body]");
  const error = root.querySelector("[data-ask-error]");
  const leave = root.querySelector("[data-ask-leave]");
  let thread = null;
  let socket = null;
  let typingTimer = null;

  const showThread = (t) => {
    thread = t;
    leave.hidden = !t || t.status === "closed";
    if (!t) return;
    log.showSeen(t.staff_read_id);  // "Seen" under my last message the associate read
    if (t.status === "assigned" && t.associate) {
      const where = t.associate.store ? `, ${t.associate.store}` : "";
      status.textContent = `${t.associate.name}${where} is answering you.`;
    } else if (t.status === "waiting") {
      const minutes = Math.ceil((t.estimated_wait_seconds || 0) / 60);
      status.textContent = t.position > 1 && minutes
        ? `Waiting for an associate: you are number ${t.position} in line, about ${minutes} min.`
        : "Waiting for an associate: one moment.";
    } else {
      status.textContent = "The conversation is closed. Ask again any time.";
    }
  };

  const markRead = () => {
    if (!thread || !log.lastId || document.hidden) return;
    api(`/api/threads/${thread.id}/read`, { method: "POST", body: { message_id: log.lastId } })
      .catch(() => {});
  };

  const listen = () => {
    if (socket) return;
    socket = connectThreads({
      connect: () => { root.dataset.live = "1"; resync(); },
      thread_message: (d) => {
        if (thread && d.thread_id === thread.id && log.add(d.message)) {
          typing.textContent = "";
          if (d.message.side !== "shopper") markRead();
        }
      },
      thread_changed: (d) => { if (thread && d.thread.id === thread.id) showThread(d.thread); },
      thread_read: (d) => {
        if (thread && d.thread_id === thread.id && d.side === "staff") log.showSeen(d.message_id);
      },
      thread_typing: (d) => {
        if (!thread || d.thread_id !== thread.id || d.side !== "staff") return;
        typing.textContent = `${d.name} is typing…`;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { typing.textContent = ""; }, 5000);
      },
    });
    input.addEventListener("input", typingNotifier(socket, () => thread && thread.id));
  };

  // What was missed while the socket was away (a reconnect, the page opened again).
  const resync = async () => {
    if (!thread) return;
    const data = await api(`/api/threads/${thread.id}?after_id=${log.lastId}`).catch(() => null);
    if (!data) return;
    showThread(data.thread);
    data.messages.forEach((m) => log.add(m));
  };

  const load = async () => {
    try {
      const data = await api(`/api/brands/${brandId}/thread`);
      showThread(data.thread);
      data.messages.forEach((m) => log.add(m));
      markRead();
      listen();
    } catch (err) {
      if (err.status !== 404) error.textContent = err.message;
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    error.textContent = "";
    const clientId = randomId();
    try {
      if (!thread || thread.status === "closed") {
        const asked = await api(`/api/brands/${brandId}/thread`, {
          method: "POST", body: { body, product_id: productId, client_id: clientId },
        });
        showThread(asked.thread);
        log.add(asked.message);
        if (asked.automatic) log.add(asked.automatic);
        if (asked.back_at) {
          const at = new Date(asked.back_at).toLocaleString([], { weekday: "long", hour: "2-digit", minute: "2-digit" });
          status.textContent = `Nobody is online right now: back at ${at}. Your question waits for them.`;
        }
        listen();  // the question made this browser a shopper: its socket now has a room
      } else {
        const sent = await api(`/api/threads/${thread.id}/messages`, {
          method: "POST", body: { body, client_id: clientId },
        });
        log.add(sent);
      }
      input.value = "";
    } catch (err) {
      error.textContent = err.message;
    }
  });

  leave.addEventListener("click", async () => {
    if (!thread) return;
    const closed = await api(`/api/threads/${thread.id}/leave`, { method: "POST" }).catch((err) => {
      error.textContent = err.message;
    });
    if (closed) showThread(closed);
  });

  document.addEventListener("visibilitychange", markRead);
  load();
}
