// The associate's live inbox: waiting, mine, colleagues'. New questions and offers are
// pushed over Socket.IO (no polling), with a sound, a browser notification (asked once)
// and the unread count in the tab title. The console's heartbeat tells the server the
// associate is here (auto-away counts it): sent while they are active.
//
// Other modules of the page (the tools: inbox-tools.js) hear what happens through DOM
// events on the inbox's root: "inbox:thread" (the open thread, whenever its state moves)
// and "inbox:push" (every thread event the socket receives); they post "inbox:sent" with a
// message they sent, for the log.

import { api } from "./ui.js";
import { MessageLog, THREAD_EVENTS, connectThreads, randomId, typingNotifier } from "./thread-view.js";
import "./inbox-video.js";
import { st } from "./strings.js";

const HEARTBEAT_MS = 30000;
const ACTIVE_MS = 2 * 60000;
const ASKED_KEY = "vitrine.notifications.asked";
const PLACEHOLDER = /\{(shopper|associate|product|size|store|brand)\}/;

const root = document.querySelector("[data-inbox]");
if (root) start(root);

function start(root) {
  const brandId = Number(root.dataset.brandId);
  const me = Number(root.dataset.associateId) || null;
  const $ = (sel) => root.querySelector(sel);
  const list = $("[data-inbox-list]");
  const pane = $("[data-inbox-thread]");
  const log = new MessageLog($("[data-thread-log]"), { ownSide: "staff" });
  const form = $("[data-thread-form]");
  const input = $("[data-thread-body]");
  const typing = $("[data-thread-typing]");
  const notice = $("[data-inbox-notice]");
  const baseTitle = document.title;
  let tab = "waiting";
  let open = null;
  let unread = 0;
  let lastActive = Date.now();
  let typingTimer = null;

  const setUnread = (n) => {
    unread = n;
    document.title = unread ? `(${unread}) ${baseTitle}` : baseTitle;
  };

  const ring = (title, body) => {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.2);
    } catch (err) { /* no sound: the list and the title still show it */ }
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      new Notification(title, { body });
    }
  };

  const notifyButton = $("[data-inbox-notify]");
  if (window.Notification && Notification.permission === "default" && !localStorage.getItem(ASKED_KEY)) {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", () => {
      localStorage.setItem(ASKED_KEY, "1");  // asked once: the browser remembers the answer
      notifyButton.hidden = true;
      Notification.requestPermission();
    });
  }

  // One row per thread, kept across refreshes and changed in place: a list redrawn with new
  // nodes between a press and its release swallows the click (it needs the same element at
  // both ends), and pushes refresh the list while an associate is choosing from it.
  const rows = new Map();
  const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };
  const row = (thread) => {
    let item = rows.get(thread.id);
    if (!item) {
      item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "inbox-row";
      button.dataset.threadId = String(thread.id);
      button.append(document.createElement("strong"), " ", document.createElement("span"), document.createElement("span"));
      button.children[1].className = "hint";
      button.addEventListener("click", () => openThread(thread.id));
      item.append(button);
      rows.set(thread.id, item);
    }
    const [name, preview, holder] = item.firstChild.children;
    setText(name, thread.shopper_name);
    setText(preview, thread.last_message ? thread.last_message.body : "");
    setText(holder, thread.associate && tab === "colleagues" ? ` (${thread.associate.name})` : "");
    return item;
  };

  const refresh = async () => {
    const tabs = ["waiting", "mine", "colleagues"];
    const lists = await Promise.all(
      tabs.map((name) => api(`/api/brands/${brandId}/inbox?tab=${name}`).catch(() => [])),
    );
    tabs.forEach((name, i) => { $(`[data-count="${name}"]`).textContent = String(lists[i].length); });
    const items = lists[tabs.indexOf(tab)].map(row);
    const same = items.length === list.children.length && items.every((item, i) => list.children[i] === item);
    if (!same) list.replaceChildren(...items);
  };

  const showState = (thread) => {
    open = thread;
    pane.hidden = false;
    $("[data-thread-title]").textContent = st("conversationWith", { name: thread.shopper_name });
    const mine = thread.status === "assigned" && thread.associate && thread.associate.id === me;
    $("[data-thread-status]").textContent =
      thread.status === "waiting" ? st("waitingAssociate") :
      thread.status === "closed" ? st("closed") : st("withName", { name: thread.associate ? thread.associate.name : st("aColleague") });
    $("[data-thread-accept]").hidden = thread.status !== "waiting" || !me;
    $("[data-thread-close]").hidden = !mine;
    form.hidden = !mine;
    log.showSeen(thread.shopper_read_id);  // "Seen" under my last message the shopper read
    root.dispatchEvent(new CustomEvent("inbox:thread", { detail: { thread, mine, me } }));
  };

  const markRead = () => {
    if (!open || !log.lastId || open.status !== "assigned") return;
    api(`/api/threads/${open.id}/read`, { method: "POST", body: { message_id: log.lastId } }).catch(() => {});
  };

  const openThread = async (id) => {
    let data;
    try {
      data = await api(`/api/threads/${id}`);
    } catch (err) {
      notice.textContent = err.message;  // said in words; the row can be tapped again
      return;
    }
    log.clear();
    showState(data.thread);
    data.messages.forEach((m) => log.add(m));
    markRead();
    setUnread(0);
  };

  const selectTab = (name) => {
    tab = name;
    root.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    refresh();
  };
  root.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => selectTab(b.dataset.tab)));

  $("[data-thread-accept]").addEventListener("click", async () => {
    if (!open) return;
    try {
      showState(await api(`/api/threads/${open.id}/accept`, { method: "POST" }));
      markRead();  // taken and on screen: read
      selectTab("mine");
    } catch (err) {
      $("[data-thread-error]").textContent = err.message;
      $("[data-thread-status]").textContent = err.message;
    }
  });
  $("[data-thread-close]").addEventListener("click", async () => {
    if (!open) return;
    showState(await api(`/api/threads/${open.id}/close`, { method: "POST" }));
    refresh();
  });
  root.addEventListener("inbox:sent", (event) => {
    if (open && event.detail.message.thread_id === open.id) log.add(event.detail.message);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body = input.value.trim();
    if (!open || !body) return;
    $("[data-thread-error]").textContent = "";
    try {
      if (PLACEHOLDER.test(body)) {  // never "{size}" to a shopper: filled, or refused
        body = (await api(`/api/threads/${open.id}/fill?text=${encodeURIComponent(body)}`)).text;
      }
      log.add(await api(`/api/threads/${open.id}/messages`, {
        method: "POST", body: { body, client_id: randomId() },
      }));
      input.value = "";
    } catch (err) {
      $("[data-thread-error]").textContent = err.message;
    }
  });

  const handlers = {
    connect: (s) => {
      s.emit("console_heartbeat", {}, () => { root.dataset.live = "1"; });  // here, and heard
      refresh();
    },
    thread_offer: (d) => {
      notice.textContent = st("newQuestionFrom", { name: d.shopper_name, preview: d.preview });
      ring(st("newQuestion"), d.preview);
      refresh();
    },
    thread_offer_withdrawn: () => refresh(),
    thread_changed: (d) => {
      if (open && d.thread.id === open.id) showState(d.thread);
      if (d.thread.status === "waiting" && !(open && d.thread.id === open.id)) {
        ring(st("shopperWaiting"), d.thread.last_message ? d.thread.last_message.body : "");
      }
      refresh();
    },
    thread_message: (d) => {
      if (open && d.thread_id === open.id) {
        if (log.add(d.message) && d.message.side === "shopper") {
          typing.textContent = "";
          if (document.hidden) setUnread(unread + 1); else markRead();
        }
      } else if (d.message.side === "shopper") {
        setUnread(unread + 1);
        refresh();
      }
    },
    thread_typing: (d) => {
      if (!open || d.thread_id !== open.id || d.side !== "shopper") return;
      typing.textContent = st("typing");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { typing.textContent = ""; }, 5000);
    },
    thread_read: (d) => {
      if (open && d.thread_id === open.id && d.side === "shopper") log.showSeen(d.message_id);
    },
  };
  for (const name of THREAD_EVENTS) {  // every one, for the page's other modules
    const own = handlers[name];
    handlers[name] = (d) => {
      if (own) own(d);
      root.dispatchEvent(new CustomEvent("inbox:push", { detail: { name, data: d } }));
    };
  }
  const socket = connectThreads(handlers);
  if (socket) {
    input.addEventListener("input", typingNotifier(socket, () => open && open.id));
    for (const name of ["pointerdown", "keydown", "focus"]) {
      window.addEventListener(name, () => { lastActive = Date.now(); });
    }
    setInterval(() => {
      if (Date.now() - lastActive < ACTIVE_MS) socket.emit("console_heartbeat", {});
    }, HEARTBEAT_MS);
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) { markRead(); setUnread(0); } });
  refresh();
}
