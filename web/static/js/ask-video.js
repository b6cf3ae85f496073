// "Show me on camera": the shopper's chat turns into video, both ways. The shopper asks the
// associate who holds the thread, or accepts the associate's offer ("Try it on for you on
// camera") in one tap; either side may say not now. Once accepted, a consultation is open
// for both: this page goes to its room (/consult/<id>). Inside a cross-site embed (no
// cookie) the room opens in a new tab from a short-lived signed link instead.
// Used by ask.js, which owns the thread and the socket (event `video_request`).

import { api, t } from "./ui.js";

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
  let pushes = 0;  // requests pushed so far: a fetch answered after one must not undo it

  const only = (...shown) => {
    for (const [name, node] of Object.entries(buttons)) node.hidden = !shown.includes(name);
  };

  const open = (r) => {
    if (embedded) {
      if (!r.enter_url) { resync(); return; }  // pushed: the link is asked for, not pushed
      buttons.join.href = r.enter_url;
      status.textContent = t("Your video with %(name)s is ready: it opens in a new tab.", { name: r.associate_name });
      only("join");
      return;
    }
    status.textContent = t("Opening your video with %(name)s…", { name: r.associate_name });
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
      status.textContent = t("Your video with %(name)s is on.", { name });
      buttons.join.href = embedded ? (request.enter_url || "#") : (request.room_url || `/consult/${request.live_session_id}`);
      if (embedded && !request.enter_url) { resync(); return; }
      if (!embedded) buttons.join.removeAttribute("target");
      only("join");
      return;
    }
    if (request && request.status === "pending") {
      if (request.asked_by === "shopper") {
        status.textContent = t("Waiting for %(name)s to go on camera…", { name });
        only("cancel");
      } else {
        status.textContent = t("%(name)s offers to try it on for you on camera.", { name });
        only("accept", "decline");
      }
      return;
    }
    status.textContent = said;
    only("ask");
  };

  // What the other side (or this shopper in another tab) did, as the shopper hears it.
  const said = (r) => {
    if (r.status === "expired") return r.asked_by === "shopper" ? t("No answer in time: ask again whenever you like.") : t("The offer to go on camera lapsed.");
    if (r.status === "declined" && r.asked_by === "shopper") return t("%(name)s cannot go on camera right now.", { name: r.associate_name });
    if (r.status === "cancelled" && r.asked_by === "staff") return t("%(name)s withdrew the offer.", { name: r.associate_name });
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
    const seen = pushes;
    const data = await api(`/api/threads/${thread.id}/video`).catch(() => null);
    if (!data || pushes !== seen) return;  // a newer request state came by push meanwhile
    request = data.request;
    render();
  };

  return {
    thread(th) {
      const first = !thread || thread.id !== th.id;
      thread = th;
      const holder = th.status === "assigned" && th.associate ? th.associate.id : null;
      if (request && request.status === "pending" && holder !== request.associate_id) request = null;  // lapsed
      if (first) resync(); else render();
    },
    event(r) {
      if (!thread || r.thread_id !== thread.id) return;
      pushes += 1;
      const fresh = r.status === "accepted" && !(request && request.id === r.id && request.status === "accepted");
      request = r.status === "pending" || r.status === "accepted" ? r : null;
      render({ fresh, said: said(r) });
    },
    resync,
  };
}
