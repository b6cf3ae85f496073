// "Show me on camera": the shopper's chat turns into video, both ways. The shopper asks the
// associate who holds the thread, or accepts the associate's offer ("Try it on for you on
// camera") in one tap; either side may say not now. Once accepted, a consultation is open
// for both: this page goes to its room (/consult/<id>). Inside a cross-site embed (no
// cookie) the room opens in a new tab from a short-lived signed link instead.
// Used by ask.js, which owns the thread and the socket (event `video_request`).

import { api } from "./ui.js";

export function askVideo(root, { embedded = false } = {}) {
  const box = root.querySelector("[data-ask-video]");
  if (!box) return { thread() {}, event() {}, resync() {} };
  const $ = (sel) => box.querySelector(sel);
  const status = $("[data-ask-video-status]");
  const buttons = {
    ask: $("[data-ask-video-request]"),
    accept: $("[data-ask-video-accept]"),
    decline: $("[data-ask-video-decline]"),
    cancel: $("[data-ask-video-cancel]"),
    join: $("[data-ask-video-join]"),
  };
  let thread = null;
  let request = null;  // its lapse is pushed (status "expired"): no timer of our own

  const only = (...shown) => {
    for (const [name, node] of Object.entries(buttons)) node.hidden = !shown.includes(name);
  };

  const open = (r) => {
    if (embedded) {
      if (!r.enter_url) { resync(); return; }  // pushed: the link is asked for, not pushed
      buttons.join.href = r.enter_url;
      status.textContent = `Your video with ${r.associate_name} is ready: it opens in a new tab.`;
      only("join");
      return;
    }
    status.textContent = `Opening your video with ${r.associate_name}…`;
    only();
    window.location.assign(r.room_url || `/consult/${r.live_session_id}`);
  };

  // `fresh`: just accepted (by either side) — go to the room; a reload only offers the link.
  const render = ({ fresh = false, said = "" } = {}) => {
    const held = thread && thread.status === "assigned" && thread.associate;
    const running = request && request.status === "accepted";
    box.hidden = !held && !running;
    if (box.hidden) return;
    const name = request ? request.associate_name : thread.associate.name;
    if (running) {
      if (fresh) { open(request); return; }
      status.textContent = `Your video with ${name} is on.`;
      buttons.join.href = embedded ? (request.enter_url || "#") : (request.room_url || `/consult/${request.live_session_id}`);
      if (embedded && !request.enter_url) { resync(); return; }
      if (!embedded) buttons.join.removeAttribute("target");
      only("join");
      return;
    }
    if (request && request.status === "pending") {
      if (request.asked_by === "shopper") {
        status.textContent = `Waiting for ${name} to go on camera…`;
        only("cancel");
      } else {
        status.textContent = `${name} offers to try it on for you on camera.`;
        only("accept", "decline");
      }
      return;
    }
    status.textContent = said;
    only("ask");
  };

  // What the other side (or this shopper in another tab) did, as the shopper hears it.
  const said = (r) => {
    if (r.status === "expired") return r.asked_by === "shopper" ? "No answer in time: ask again whenever you like." : "The offer to go on camera lapsed.";
    if (r.status === "declined" && r.asked_by === "shopper") return `${r.associate_name} cannot go on camera right now.`;
    if (r.status === "cancelled" && r.asked_by === "staff") return `${r.associate_name} withdrew the offer.`;
    return "";
  };

  const act = async (path) => {
    if (!thread) return;
    status.textContent = "";
    try {
      request = await api(`/api/threads/${thread.id}/video${path}`, { method: "POST" });
      render({ fresh: request.status === "accepted" });
    } catch (err) {
      status.textContent = err.message;
    }
  };
  buttons.ask.addEventListener("click", () => act(""));
  buttons.accept.addEventListener("click", () => act("/accept"));
  buttons.decline.addEventListener("click", () => act("/decline"));
  buttons.cancel.addEventListener("click", () => act("/cancel"));

  const resync = async () => {
    if (!thread) return;
    const data = await api(`/api/threads/${thread.id}/video`).catch(() => null);
    if (!data) return;
    request = data.request;
    render();
  };

  return {
    thread(t) {
      const first = !thread || thread.id !== t.id;
      thread = t;
      const holder = t.status === "assigned" && t.associate ? t.associate.id : null;
      if (request && request.status === "pending" && holder !== request.associate_id) request = null;  // lapsed
      if (first) resync(); else render();
    },
    event(r) {
      if (!thread || r.thread_id !== thread.id) return;
      const fresh = r.status === "accepted" && !(request && request.id === r.id && request.status === "accepted");
      request = r.status === "pending" || r.status === "accepted" ? r : null;
      render({ fresh, said: said(r) });
    },
    resync,
  };
}
