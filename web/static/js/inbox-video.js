// Video from the inbox, both ways: a shopper's "Show me on camera" arrives as a request the
// associate accepts in one tap (or declines), and the associate offers "Try it on for you
// on camera" in a conversation they hold. Once accepted (by either side) the consultation is
// open: this console goes to its room (/console/consult/<id>). Pushed over the page's one
// socket (`video_request`); the requests open at load come from the API.
// Imported by console-inbox.js; it keeps to its own elements, made here.

import { api, el } from "./ui.js";
import { connectThreads } from "./thread-view.js";
import { st } from "./strings.js";

const root = document.querySelector("[data-inbox]");
if (root) start(root);

function start(root) {
  const brandId = Number(root.dataset.brandId);
  const me = Number(root.dataset.associateId) || null;
  if (!me) return;  // only an associate goes on camera
  const notice = root.querySelector("[data-inbox-notice]");
  const requests = new Map();  // id -> request, open ones only (a lapse is pushed: "expired")
  const mine = new Set();  // requests this tab made or accepted: it follows them to the room
  let openThread = null;  // the conversation shown in the pane, as the API has it

  const list = el("ul", { class: "inbox-video", "data-video-requests": "", "aria-label": st("videoRequests"), "aria-live": "polite" });
  (notice || root.firstElementChild).after(list);

  // The pane's "Try it on for you on camera", next to its other actions.
  const offer = el("button", { type: "button", class: "button", "data-video-offer": "", hidden: true, text: st("offerVideo") });
  const offerState = el("p", { class: "hint", "data-video-offer-state": "", role: "status" });
  const actions = root.querySelector("[data-inbox-thread] .actions");
  if (actions) actions.append(offer);
  offer.after(offerState);

  const say = (text) => { if (notice) notice.textContent = text; };

  const goToRoom = (r) => {
    say(st("openingVideo", { name: r.shopper_name }));
    window.location.assign(r.room_url || `/console/consult/${r.live_session_id}`);
  };

  const post = async (threadId, path) => {
    try {
      const r = await api(`/api/threads/${threadId}/video${path}`, { method: "POST" });
      mine.add(r.id);
      update(r, { pushed: true });
      return r;
    } catch (err) {
      say(err.message);
      return null;
    }
  };

  const row = (r) => {
    const item = el("li", { "data-video-request": String(r.id), "data-thread-id": String(r.thread_id) });
    if (r.asked_by === "shopper") {
      item.append(
        el("p", { text: st("asksCamera", { name: r.shopper_name }) }),
        el("button", { type: "button", class: "button primary", "data-video-accept": "", text: st("goOnCamera"), onclick: () => post(r.thread_id, "/accept") }),
        el("button", { type: "button", class: "button", "data-video-decline": "", text: st("notNow"), onclick: () => post(r.thread_id, "/decline") }),
      );
    } else {
      item.append(
        el("p", { text: st("waitingAccept", { name: r.shopper_name }) }),
        el("button", { type: "button", class: "button", "data-video-cancel": "", text: st("withdraw"), onclick: () => post(r.thread_id, "/cancel") }),
      );
    }
    return item;
  };

  const draw = () => {
    list.replaceChildren(...[...requests.values()].map(row));
    const held = openThread && openThread.status === "assigned" && openThread.associate && openThread.associate.id === me;
    const waiting = openThread && [...requests.values()].some((r) => r.thread_id === openThread.id);
    offer.hidden = !held || waiting;
    offerState.textContent = held && waiting ? st("requestOpen") : "";
  };

  const ring = (r) => {
    say(st("asksCamera", { name: r.shopper_name }));
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      tone.frequency.value = 660;
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.3);
    } catch (err) { /* no sound: the request is on screen */ }
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      new Notification(st("videoRequested"), { body: st("asksCamera", { name: r.shopper_name }) });
    }
  };

  // `pushed`: it just happened (an event), not the list read at load.
  function update(r, { pushed = false } = {}) {
    if (r.status === "pending") {
      if (pushed && r.asked_by === "shopper" && !requests.has(r.id)) ring(r);
      requests.set(r.id, r);
    } else {
      requests.delete(r.id);
      if (r.status === "accepted" && mine.has(r.id)) goToRoom(r);
      else if (r.status === "accepted") say(st("accepted", { name: r.shopper_name }));
      else if (r.status === "declined" && r.asked_by === "staff") say(st("declined", { name: r.shopper_name }));
      else if (r.status === "cancelled" && r.asked_by === "shopper") say(st("withdrew", { name: r.shopper_name }));
      else if (r.status === "expired") say(st(r.asked_by === "shopper" ? "lapsed" : "offerLapsed", { name: r.shopper_name }));
    }
    draw();
  }

  offer.addEventListener("click", () => { if (openThread) post(openThread.id, ""); });

  // Which conversation the pane shows: the inbox's rows say, the API tells its state.
  const follow = async (id) => {
    const data = await api(`/api/threads/${id}?after_id=2147483647`).catch(() => null);
    if (data) { openThread = data.thread; draw(); }
  };
  root.addEventListener("click", (event) => {
    const rowButton = event.target.closest(".inbox-row[data-thread-id]");
    if (rowButton) follow(Number(rowButton.dataset.threadId));
  });

  const load = async () => {
    const open = await api(`/api/brands/${brandId}/video-requests`).catch(() => []);
    requests.clear();
    open.forEach((r) => update(r));
    draw();
  };

  connectThreads({
    connect: () => load(),
    video_request: (d) => update(d.request, { pushed: true }),
    thread_changed: (d) => {
      const holder = d.thread.status === "assigned" && d.thread.associate ? d.thread.associate.id : null;
      for (const r of [...requests.values()]) {  // transferred or closed: the request lapsed
        if (r.thread_id === d.thread.id && holder !== r.associate_id) requests.delete(r.id);
      }
      if (openThread && d.thread.id === openThread.id) openThread = d.thread;
      draw();
    },
  });
}
