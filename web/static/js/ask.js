// "Ask an associate": the shopper's chat on the product page, the brand home, a show and
// the embed. The first question opens (or reuses) the shopper's thread; messages after it
// are pushed over Socket.IO (no polling), typing and read markers too. On a show it opens
// as a sheet under the video (never over it) and says which show it is asked from; inside
// the embed the shopper is the embed's token, not a cookie. "Show me on camera": ask-video.js.

import { api, apiHeaders, pageLang, t, tn } from "./ui.js";
import { MessageLog, connectThreads, randomId, typingNotifier } from "./thread-view.js";
import { askVideo } from "./ask-video.js";
import { sharedBag } from "./shared-bag.js";

const panel = document.querySelector("[data-ask]");
if (panel) start(panel);

function start(root) {
  const brandId = Number(root.dataset.brandId);
  const productId = root.dataset.productId ? Number(root.dataset.productId) : null;
  const showId = root.dataset.showId ? Number(root.dataset.showId) : null;
  const embedToken = root.dataset.embedToken || "";
  if (embedToken) apiHeaders["X-Vitrine-Embed"] = embedToken;  // no cookie in a cross-site iframe
  const log = new MessageLog(root.querySelector("[data-ask-log]"), { ownSide: "shopper" });
  const status = root.querySelector("[data-ask-status]");
  const typing = root.querySelector("[data-ask-typing]");
  const form = root.querySelector("[data-ask-form]");
  const input = root.querySelector("[data-ask-body]");
  const error = root.querySelector("[data-ask-error]");
  const leave = root.querySelector("[data-ask-leave]");
  const video = askVideo(root, { embedded: Boolean(embedToken) });
  const sheet = sheetOf(root);
  const bag = sharedBag(root.querySelector("[data-shared-bag]"),  // shared with the associate
    { auth: embedToken ? { embed_token: embedToken } : undefined });
  signInForm(root, brandId);
  let thread = null;
  let socket = null;
  let typingTimer = null;
  let saidWhichShow = false;  // a show's first message from this page says which show
  // Pushed thread states seen so far: a fetch answered after a push may be older than it
  // (read before the associate took the thread), so it must not paint over the push.
  let pushes = 0;

  const showThread = (th) => {
    thread = th;
    leave.hidden = !th || th.status === "closed";
    if (!th) return;
    video.thread(th);
    bag.setThread(th.id);
    log.showSeen(th.staff_read_id);  // "Seen" under my last message the associate read
    if (th.status === "assigned" && th.associate) {
      status.textContent = th.associate.store
        ? t("%(name)s, %(store)s, is answering you.", { name: th.associate.name, store: th.associate.store })
        : t("%(name)s is answering you.", { name: th.associate.name });
    } else if (th.status === "waiting") {
      const minutes = Math.ceil((th.estimated_wait_seconds || 0) / 60);
      status.textContent = th.position > 1 && minutes
        ? tn("Waiting for an associate: you are number %(position)s in line, about %(minutes)s minute.", "Waiting for an associate: you are number %(position)s in line, about %(minutes)s minutes.", minutes, { position: th.position, minutes })
        : t("Waiting for an associate: one moment.");
    } else {
      status.textContent = t("The conversation is closed. Ask again any time.");
    }
  };

  const markRead = () => {
    if (!thread || !log.lastId || document.hidden || !sheet.isOpen()) return;
    api(`/api/threads/${thread.id}/read`, { method: "POST", body: { message_id: log.lastId } })
      .catch(() => {});
  };

  const listen = () => {
    if (socket) return;
    socket = connectThreads({
      connect: () => { root.dataset.live = "1"; resync(); video.resync(); },
      thread_message: (d) => {
        if (thread && d.thread_id === thread.id && log.add(d.message)) {
          typing.textContent = "";
          if (d.message.side !== "shopper") { sheet.unread(); markRead(); }
        }
      },
      thread_changed: (d) => {
        if (thread && d.thread.id === thread.id) { pushes += 1; showThread(d.thread); }
      },
      thread_read: (d) => {
        if (thread && d.thread_id === thread.id && d.side === "staff") log.showSeen(d.message_id);
      },
      thread_typing: (d) => {
        if (!thread || d.thread_id !== thread.id || d.side !== "staff") return;
        typing.textContent = t("%(name)s is typing…", { name: d.name });
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { typing.textContent = ""; }, 5000);
      },
      video_request: (d) => { video.event(d.request); if (d.request.status === "pending") sheet.unread(); },
    }, { auth: embedToken ? { embed_token: embedToken } : undefined });
    if (socket) input.addEventListener("input", typingNotifier(socket, () => thread && thread.id));
  };

  // What was missed while the socket was away (a reconnect, the page opened again).
  const resync = async () => {
    if (!thread) return;
    const seen = pushes;
    const data = await api(`/api/threads/${thread.id}?after_id=${log.lastId}`).catch(() => null);
    if (!data) return;
    if (pushes === seen) showThread(data.thread);  // else a newer state came by push meanwhile
    data.messages.forEach((m) => log.add(m));
  };

  const load = async () => {
    try {
      const data = await api(`/api/brands/${brandId}/thread`);
      if (!data.thread) return;  // no question yet: nothing to show, nothing to listen to
      showThread(data.thread);
      data.messages.forEach((m) => log.add(m));
      markRead();
      listen();
    } catch (err) {
      error.textContent = err.message;
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    error.textContent = "";
    const clientId = randomId();
    const fromShow = showId && !saidWhichShow ? { show_id: showId } : {};
    try {
      if (!thread || thread.status === "closed") {
        const asked = await api(`/api/brands/${brandId}/thread`, {
          method: "POST", body: { body, product_id: productId, client_id: clientId, ...fromShow },
        });
        showThread(asked.thread);
        log.add(asked.message);
        if (asked.automatic) log.add(asked.automatic);
        if (asked.back_at) {
          const at = new Date(asked.back_at).toLocaleString(pageLang(), { weekday: "long", hour: "2-digit", minute: "2-digit" });
          status.textContent = t("Nobody is online right now: back at %(at)s. Your question waits for them.", { at });
        }
        listen();  // the question made this browser a shopper: its socket now has a room
      } else {
        const sent = await api(`/api/threads/${thread.id}/messages`, {
          method: "POST", body: { body, client_id: clientId, ...fromShow },
        });
        log.add(sent);
      }
      saidWhichShow = true;
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

  // Another part of the page opened or reused the thread (tryon.js): show it and listen.
  document.addEventListener("vitrine:thread", async () => {
    const data = await api(`/api/brands/${brandId}/thread`).catch(() => null);
    if (!data || !data.thread) return;
    showThread(data.thread);
    data.messages.forEach((m) => log.add(m));
    markRead();
    if (!socket) listen();
  });
  sheet.onOpen(() => { markRead(); input.focus({ preventScroll: true }); });
  document.addEventListener("visibilitychange", markRead);
  load();
}

// On a show, the chat is a sheet behind an "Ask an associate" button: it opens in the side
// column, under the video (on a phone the video stays on top and in view). Elsewhere the
// panel is always open.
function sheetOf(root) {
  const sheet = root.closest("[data-ask-sheet]");
  const button = sheet && document.querySelector(`[data-ask-open][aria-controls="${sheet.id}"]`);
  if (!sheet || !button) return { isOpen: () => true, unread() {}, onOpen() {} };
  const badge = button.querySelector("[data-ask-unread]");
  let opened = () => {};
  let count = 0;
  // The phone player: the video fills the screen, so the open sheet takes its lower part
  // and the video shrinks above it, still in view and playing (vitrine.css, .ask-open).
  const phonePlayer = () =>
    document.body.classList.contains("player-page") && matchMedia("(max-width: 959px)").matches;
  const setOpen = (open) => {
    sheet.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("ask-open", open && phonePlayer());
    if (!open) { if (phonePlayer()) button.focus({ preventScroll: true }); return; }
    count = 0;
    if (badge) badge.hidden = true;
    if (phonePlayer()) window.scrollTo({ top: 0 });
    else sheet.scrollIntoView({ block: "nearest" });
    opened();
  };
  button.addEventListener("click", () => setOpen(sheet.hidden));
  sheet.querySelector("[data-ask-close]")?.addEventListener("click", () => setOpen(false));
  return {
    isOpen: () => !sheet.hidden,
    unread() {
      if (!sheet.hidden || !badge) return;
      count += 1;
      badge.textContent = `${count} new`;
      badge.hidden = false;
    },
    onOpen(fn) { opened = fn; },
  };
}

// "Continue on another device / Recognise me": a one-time link to the shopper's e-mail; the
// browser that opens it becomes this shopper (the thread and the bag are there).
function signInForm(root, brandId) {
  const form = root.querySelector("[data-signin-request]");
  if (!form) return;
  const said = form.querySelector("[data-signin-status]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    said.textContent = "";
    try {
      const sent = await api(`/api/brands/${brandId}/signin-link`, {
        method: "POST", body: { email: form.elements.email.value.trim() },
      });
      said.textContent = tn("We sent a link to %(email)s. It works once, for %(minutes)s minute.", "We sent a link to %(email)s. It works once, for %(minutes)s minutes.", sent.minutes, { email: sent.sent_to, minutes: sent.minutes });
    } catch (err) {
      said.textContent = err.message;
    }
  });
}
