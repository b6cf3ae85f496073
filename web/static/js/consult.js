// Consultations in the browser: times in the shopper's zone, talk now, the
// associate's day, and the 1:1 consultation room (video both ways, chat, shared bag).
//
// Pages import what they need:
//   import { localTimes, talkNow, consultRoom, consoleToday } from "/static/js/consult.js";
// The room uses media.js (relay publish/view) and live-room.js (chat + bag over Socket.IO).

import { publish, takeSnapshot, view } from "./media.js";
import { LiveRoom } from "./live-room.js";
import { pageLang, t, tn } from "./ui.js";
import { colourControls, colourReport, colourWords } from "./colour.js";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || t("The server answered %(status)s.", { status: response.status }));
    error.code = data.error;
    error.status = response.status;
    throw error;
  }
  return data;
}

const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
// In the page's language (its <html lang>), in the reader's own zone.
const dayLabel = (d) => d.toLocaleDateString(pageLang(), { weekday: "long", day: "numeric", month: "long" });
const timeLabel = (d) => d.toLocaleTimeString(pageLang(), { hour: "2-digit", minute: "2-digit" });
const el = (tag, attrs = {}, text = "") => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
};

// <time data-local-time datetime="..."> shows the instant in the reader's own zone.
export function localTimes(root) {
  for (const node of root.querySelectorAll("time[data-local-time]")) {
    const when = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    node.textContent = `${dayLabel(when)}, ${timeLabel(when)} (${zone()})`;
  }
}

// The page's own socket (the shopper's personal room is joined on connect), for what is
// pushed to them: their place in the queue, the associate who took them.
function loadSocketIO() {
  if (window.io) return Promise.resolve(window.io);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/vendor/socket.io.min.js";
    script.onload = () => resolve(window.io);
    script.onerror = () => reject(new Error(t("Could not load the live client.")));
    document.head.appendChild(script);
  });
}

// --- talk now ---------------------------------------------------------------------

export function talkNow(section) {
  const brandId = section.dataset.brandId;
  const form = section.querySelector("[data-ask]");
  const waiting = section.querySelector("[data-waiting]");
  const status = section.querySelector("[data-queue-status]");
  const offline = section.querySelector("[data-offline]");
  const errorBox = section.querySelector("[data-error]");
  let requestId = null;
  let socket = null;
  let done = false;

  const showError = (message) => { errorBox.hidden = !message; errorBox.textContent = message || ""; };
  const showOffline = (answer) => {
    form.hidden = true;
    waiting.hidden = true;
    offline.hidden = false;
    offline.querySelector("[data-offline-message]").textContent = answer.message;
    const next = offline.querySelector("[data-next-opening]");
    if (answer.next_opening) {
      next.hidden = false;
      next.querySelector("time").setAttribute("datetime", answer.next_opening);
      localTimes(next);
    }
  };
  const waitText = (state) => {
    if (!state.estimated_wait_seconds) return t("You are number %(position)s in line. An associate is free: one moment.", { position: state.position });
    const minutes = Math.max(1, Math.round(state.estimated_wait_seconds / 60));
    return tn("You are number %(position)s in line. About %(n)s minute.", "You are number %(position)s in line. About %(n)s minutes.", minutes, { position: state.position });
  };
  const show = (state) => {
    if (done) return;
    if (state.status === "offline") { stop(); showOffline(state.offline); return; }
    if (state.live_session_id) {
      status.textContent = t("An associate is with you. Opening the conversation…");
      stop();
      window.location.assign(`/consult/${state.live_session_id}`);
      return;
    }
    section.dataset.position = String(state.position ?? "");
    if (state.status === "offered") {
      status.textContent = t("An associate has your request and is about to answer…");
    } else if (state.status === "waiting") {
      status.textContent = waitText(state);
    } else {
      status.textContent = t("This request has ended.");
      stop();
    }
  };
  // Once, when the socket (re)connects: what was pushed while it was away. Not a poll.
  const resync = async () => {
    if (!requestId || done) return;
    try {
      show(await api("GET", `/api/queue/${requestId}`));
      showError("");
    } catch (err) {
      showError(t("Reconnecting… (%(error)s)", { error: err.message }));
    }
  };
  const stop = () => { done = true; };
  // Live means pushed: the place and wait (queue_position) whenever the queue moves, the
  // room when an associate takes the request (queue_accepted).
  const listen = async () => {
    if (socket) return;
    const io = await loadSocketIO().catch(() => null);
    if (!io) { showError(t("We could not connect: reload the page to see your place.")); return; }
    socket = io({ transports: ["websocket", "polling"] });
    socket.on("connect", () => { section.dataset.live = "1"; resync(); });
    socket.on("disconnect", () => { delete section.dataset.live; });
    socket.on("queue_position", (data) => {
      if (data.request_id === requestId) show({ ...data, id: data.request_id });
    });
    socket.on("queue_accepted", (data) => {
      if (data.request_id === requestId) show({ live_session_id: data.live_session_id });
    });
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { mode: data.get("mode"), language: data.get("language") || "en" };
    if (data.get("store_id")) body.store_id = Number(data.get("store_id"));
    try {
      const state = await api("POST", `/api/brands/${brandId}/queue`, body);
      if (state.status === "offline") { showOffline(state.offline); return; }
      requestId = state.id;
      done = false;
      form.hidden = true;
      waiting.hidden = false;
      show(state);
      listen();
    } catch (err) {
      showError(err.message);
    }
  });
  section.querySelector("[data-leave]").addEventListener("click", async () => {
    stop();
    try {
      if (requestId) await api("DELETE", `/api/queue/${requestId}`);
      requestId = null;
      waiting.hidden = true;
      form.hidden = false;
      section.querySelector("[data-left]").hidden = false;
    } catch (err) {
      showError(t("You are still in line: %(error)s", { error: err.message }));
    }
  });
  form.addEventListener("submit", () => { section.querySelector("[data-left]").hidden = true; });
}

// --- the consultation room ----------------------------------------------------------

const STATE_WORDS = {
  shopper: {
    waiting: (n) => t("Waiting for %(name)s to let you in…", { name: n }),
    live: (n) => t("You are with %(name)s.", { name: n }),
    ended: () => t("This consultation has ended. Thank you!"),
  },
  associate: {
    waiting: () => t("The shopper has not arrived yet."),
    arrived: () => t("The shopper is waiting. Let them in when you are ready."),
    live: () => t("Live with the shopper."),
    ended: () => t("This consultation has ended."),
  },
};

export function consultRoom(root) {
  const id = Number(root.dataset.sessionId);
  const side = root.dataset.side;
  const me = Number(root.dataset.associateId) || null; // the associate side's own id
  let other = root.dataset.otherName;
  let handedAway = false; // this associate handed the consultation to a colleague
  const ui = {
    state: root.querySelector("[data-room-state]"),
    remote: root.querySelector("video[data-remote]"),
    remoteState: root.querySelector("[data-remote-state]"),
    self: root.querySelector("video[data-self]"),
    selfState: root.querySelector("[data-self-state]"),
    camera: root.querySelector("select[data-camera]"),
    mic: root.querySelector("select[data-mic]"),
    cameraToggle: root.querySelector("[data-toggle-camera]"),
    micToggle: root.querySelector("[data-toggle-mic]"),
    admit: root.querySelector("[data-admit]"),
    end: root.querySelector("[data-end]"),
    chat: root.querySelector("[data-chat]"),
    chatForm: root.querySelector("[data-chat-form]"),
    chatState: root.querySelector("[data-chat-state]"),
    bag: root.querySelector("[data-bag]"),
    rate: root.querySelector("[data-rate]"),
    transfer: root.querySelector("[data-transfer]"),
  };
  const words = { ...STATE_WORDS[side] }; // a transfer changes the shopper's live words
  const grant = (role, roomSide) => () =>
    api("POST", `/api/consultations/${id}/media-grant`, { role, side: roomSide });
  let stream = null;
  let publisher = null;
  let viewer = null;
  let room = null;
  let status = "waiting";

  const setState = (text, kind) => { ui.state.textContent = text; ui.state.dataset.state = kind; };

  async function startCamera() {
    if (stream) return stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (err) {
      ui.selfState.textContent = t("No camera or microphone: you can still see, hear and chat.");
      return null;
    }
    ui.self.srcObject = stream;
    ui.self.play().catch(() => {});
    ui.selfState.textContent = t("Your camera (preview)");
    await listDevices();
    return stream;
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    for (const [select, kind] of [[ui.camera, "videoinput"], [ui.mic, "audioinput"]]) {
      if (!select) continue;
      select.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) =>
        el("option", { value: d.deviceId }, d.label || (kind === "videoinput" ? t("Camera %(n)s", { n: i + 1 }) : t("Microphone %(n)s", { n: i + 1 })))));
    }
  }

  async function switchDevice(kind, deviceId) {
    const constraints = kind === "video" ? { video: { deviceId: { exact: deviceId } } } : { audio: { deviceId: { exact: deviceId } } };
    const fresh = await navigator.mediaDevices.getUserMedia(constraints);
    const track = fresh.getTracks()[0];
    const old = stream.getTracks().find((t) => t.kind === kind);
    if (old) { stream.removeTrack(old); old.stop(); }
    stream.addTrack(track);
    if (publisher) await publisher.replaceTrack(track);
  }

  function toggle(kind, button) {
    if (!stream) return;
    for (const track of stream.getTracks().filter((t) => t.kind === kind)) track.enabled = !track.enabled;
    const on = stream.getTracks().some((t) => t.kind === kind && t.enabled);
    button.setAttribute("aria-pressed", String(!on));
    button.textContent = kind === "video" ? (on ? t("Turn camera off") : t("Turn camera on")) : (on ? t("Mute") : t("Unmute"));
  }

  async function goLive() {
    if (viewer) return;
    const theirs = side === "associate" ? "shopper" : "associate";
    viewer = view(ui.remote, grant("view", theirs));
    viewer.addEventListener("statechange", (e) => {
      const text = { waiting: side === "associate" ? t("The shopper's camera is not on yet.") : t("The camera of %(name)s is not on yet.", { name: other }),
        playing: "", connecting: t("Connecting the video…"), reconnecting: t("Reconnecting the video…"),
        "host-reconnecting": t("Their connection dropped; waiting for them…"), offline: t("The video server cannot be reached; retrying…") }[e.detail];
      ui.remoteState.textContent = text ?? "";
      root.dataset.remote = e.detail;
    });
    // A chat asked for from "talk now" starts without the shopper's camera; they may turn it on.
    if (side === "associate" || root.dataset.mode !== "chat") await sendCamera();
    connectChat();
  }

  async function sendCamera() {
    const mine = side === "associate" ? "associate" : "shopper";
    if (!(await startCamera()) || publisher) return;
    try {
      publisher = await publish(stream, grant("publish", mine));
      publisher.addEventListener("statechange", (e) => { root.dataset.publish = e.detail; });
      root.dataset.publish = publisher.state;
      if (ui.cameraToggle) ui.cameraToggle.textContent = t("Turn camera off");
    } catch (err) {
      ui.selfState.textContent = t("Your camera could not be sent: %(error)s", { error: err.message });
    }
  }

  function connectChat() {
    if (room || !ui.chat) return;
    room = new LiveRoom({ sessionId: id });
    room.addEventListener("relay_moved", (e) => {
      if (viewer) viewer.moved(e.detail.relay_url);
      if (publisher) publisher.moved(e.detail.relay_url);
    });
    room.addEventListener("statechange", (e) => {
      ui.chatState.textContent = { connecting: t("Connecting the chat…"), live: "", reconnecting: t("Reconnecting the chat…"), offline: t("Chat offline.") }[e.detail] ?? "";
    });
    room.addEventListener("messages", (e) => { for (const m of e.detail) ui.chat.append(renderMessage(m)); ui.chat.scrollTop = ui.chat.scrollHeight; });
    room.addEventListener("joined", (e) => { if (e.detail.state && e.detail.state.bag) renderBag(e.detail.state.bag); });
    room.addEventListener("bag", (e) => renderBag(e.detail));
    room.addEventListener("consultation_transferred", (e) => transferred(e.detail));
    room.addEventListener("error", (e) => { ui.chatState.textContent = e.detail.message || t("Chat unavailable."); });
    room.connect();
    ui.chatForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = ui.chatForm.querySelector("input[name=body]");
      const body = input.value.trim();
      if (!body) return;
      const ack = await room.sendChat(body);
      if (ack.ok) input.value = ""; else ui.chatState.textContent = ack.message;
    });
  }

  function renderMessage(m) {
    const item = el("li", { class: `msg ${m.author_role}` });
    item.append(el("strong", {}, `${m.author}: `));
    if (m.kind === "snapshot" && m.attachment_url) {
      const img = el("img", { src: m.attachment_url, alt: t("A picture from your associate"), class: "snapshot" });
      item.append(img);
      if (m.colour) item.append(colourReport(m.colour, colourWords(root)));
    } else if (m.kind === "product" && m.product) {
      item.append(el("a", { href: m.product.url }, m.product.name));
    } else {
      item.append(document.createTextNode(m.body));
    }
    return item;
  }

  function renderBag(bag) {
    if (!ui.bag) return;
    ui.bag.replaceChildren();
    if (!bag || !bag.lines || !bag.lines.length) { ui.bag.append(el("li", { class: "empty" }, t("The bag is empty."))); return; }
    for (const line of bag.lines) ui.bag.append(el("li", {}, `${line.quantity} × ${line.name} ${line.size || ""} ${line.colour || ""}`));
  }

  function ended() {
    if (publisher) publisher.close();
    if (viewer) viewer.close();
    if (stream) for (const t of stream.getTracks()) t.stop();
    if (room) room.disconnect();
    if (ui.rate) ui.rate.hidden = false;
  }

  // --- handing the consultation to a colleague -------------------------------------

  // Pushed to the room (the shopper, the associate who handed it) and to the colleague.
  function transferred(data) {
    if (side === "shopper") {
      other = data.name;
      root.dataset.otherName = data.name;
      words.live = (n) => t("You are now with %(name)s.", { name: n });
      if (status === "live") setState(words.live(other), "live");
      else setState(t("You are now with %(name)s; they will let you in.", { name: data.name }), "waiting");
      return;
    }
    if (me !== null && data.to_associate_id === me) {
      setState(t("A colleague handed you this consultation: it is yours now."), status);
      return;
    }
    handOver(data.name);
  }

  function handOver(name) {
    if (handedAway) return;
    handedAway = true;
    setState(t("Handed to %(name)s. The consultation is theirs now.", { name }), "handed");
    root.dataset.status = "handed";
    if (ui.admit) ui.admit.hidden = true;
    if (ui.end) ui.end.hidden = true;
    if (ui.transfer) ui.transfer.hidden = true;
    if (publisher) publisher.close();
    if (viewer) viewer.close();
    if (stream) for (const t of stream.getTracks()) t.stop();
    if (room) room.disconnect();
    ui.state.after(el("a", { class: "button", href: "/console/today", "data-back": "" }, t("Back to my day")));
  }

  function transferControl() {
    const box = ui.transfer;
    if (!box) return;
    const list = box.querySelector("[data-colleagues]");
    const note = box.querySelector("[data-transfer-state]");
    const load = async () => {
      note.textContent = t("Looking for colleagues present…");
      let people;
      try {
        people = await api("GET", `/api/consultations/${id}/colleagues`);
      } catch (err) {
        note.textContent = t("We could not load your colleagues: %(error)s", { error: err.message });
        return;
      }
      list.replaceChildren(...people.map((c) => {
        const li = el("li", { "data-colleague-id": String(c.id) });
        const load = t("%(load)s of %(cap)s conversations", { load: c.load, cap: c.cap });
        const held = (c.store ? `${c.store} · ` : "") + load;
        const button = el("button", { type: "button", class: "small" }, c.has_room ? t("Hand to %(name)s", { name: c.name }) : t("%(name)s is full", { name: c.name }));
        button.disabled = !c.has_room;
        li.append(button, el("span", { class: "muted" }, ` ${held}`));
        button.addEventListener("click", async () => {
          button.disabled = true;
          note.textContent = t("Handing the consultation to %(name)s…", { name: c.name });
          try {
            await api("POST", `/api/consultations/${id}/transfer`, { associate_id: c.id });
            handOver(c.name);
          } catch (err) {
            note.textContent = t("Not handed over: %(error)s", { error: err.message });
            load();
          }
        });
        return li;
      }));
      const free = people.filter((c) => c.has_room).length;
      note.textContent = !people.length ? t("No colleague is present right now: nobody to hand it to.")
        : free ? tn("%(free)s of %(n)s present colleague has room.", "%(free)s of %(n)s present colleagues have room.", people.length, { free })
        : t("Every colleague present is full right now.");
    };
    box.addEventListener("toggle", () => { if (box.open) load(); });
    box.querySelector("[data-transfer-refresh]").addEventListener("click", load);
  }

  // Consent (sessions/privacy/consent.py): the shopper answers on the waiting screen; the
  // associate's line says whether snapshots are kept and the consultation recorded.
  const consentStaff = root.querySelector("[data-consent-staff]");
  function showConsent(state) {
    if (!consentStaff || !state) return;
    consentStaff.dataset.consentState = state;
    consentStaff.textContent = state === "accepted" ? consentStaff.dataset.wordsAccepted : consentStaff.dataset.wordsDeclined;
  }
  const consentForm = root.querySelector("[data-consent-form]");
  consentForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const decision = event.submitter?.value || "decline";
    const answer = root.querySelector("[data-consent-answer]");
    try {
      const response = await fetch(consentForm.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf() },
        body: new URLSearchParams({ decision, csrf_token: csrf() }),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) { answer.textContent = data.message || t("The server answered %(status)s.", { status: response.status }); return; }
      root.querySelector("[data-consent]").hidden = true;
      root.querySelector("[data-consent]").dataset.consentState = data.consent;
      answer.textContent = data.consent === "accepted" ? answer.dataset.wordsAccepted : answer.dataset.wordsDeclined;
    } catch (err) {
      answer.textContent = err.message;
    }
  });

  function show(state) {
    if (handedAway) return false;
    if (state.consent) showConsent(state.consent);
    // Handed to a colleague before the chat was connected: the state names them too.
    if (side === "shopper" && state.associate_name && state.associate_name !== other) {
      transferred({ name: state.associate_name });
    }
    status = state.status;
    root.dataset.status = status;
    if (status === "ended") { setState(words.ended(other), "ended"); ended(); return false; }
    if (status === "live") { setState(words.live(other), "live"); if (ui.admit) ui.admit.hidden = true; goLive(); return true; }
    if (side === "associate" && state.shopper_waiting) {
      setState(words.arrived(other), "arrived");
      ui.admit.hidden = false;
    } else {
      setState(words.waiting(other), "waiting");
    }
    return true;
  }

  // Once when the room's socket (re)joins: the state as it is now (a push missed while
  // away). Everything after comes pushed: session_state (live, ended), shopper_waiting,
  // consultation_transferred. Not a poll.
  async function resync() {
    if (handedAway) return;
    try {
      show(await api("GET", `/api/consultations/${id}`));
    } catch (err) {
      if (!handedAway) ui.state.textContent = `Reconnecting… (${err.message})`;
    }
  }

  function listen() {
    connectChat();
    if (!room) { resync(); return; }
    room.addEventListener("joined", () => { root.dataset.live = "1"; resync(); });
    room.addEventListener("session_state", (e) => {
      if (e.detail.status === "live" || e.detail.status === "ended") show({ ...e.detail, status: e.detail.status });
    });
    // The shopper's yes or no to keeping the recording and pictures, pushed to the hosts.
    room.addEventListener("consent", (e) => {
      if (e.detail.live_session_id === id) showConsent(e.detail.accepted ? "accepted" : "declined");
    });
    room.addEventListener("shopper_waiting", (e) => {
      if (side === "associate" && e.detail.live_session_id === id && status !== "live" && status !== "ended") {
        show({ status, shopper_waiting: true });
      }
    });
  }

  ui.cameraToggle?.addEventListener("click", () => {
    if (!publisher && status === "live") { sendCamera(); return; }
    toggle("video", ui.cameraToggle);
  });
  ui.micToggle?.addEventListener("click", () => toggle("audio", ui.micToggle));
  ui.camera?.addEventListener("change", () => switchDevice("video", ui.camera.value).catch((e) => { ui.selfState.textContent = e.message; }));
  ui.mic?.addEventListener("change", () => switchDevice("audio", ui.mic.value).catch((e) => { ui.selfState.textContent = e.message; }));
  ui.admit?.addEventListener("click", async () => {
    try { show(await api("POST", `/api/consultations/${id}/admit`)); } catch (err) { ui.state.textContent = err.message; }
  });
  ui.end?.addEventListener("click", async () => {
    try { show(await api("POST", `/api/consultations/${id}/end`)); } catch (err) { ui.state.textContent = err.message; }
  });

  // A try-on snapshot (the associate's camera, taken by the relay): shown in the room's
  // chat and kept in the shopper's thread (POST /console/live/<id>/snapshot).
  function snapshotControl() {
    const box = root.querySelector("[data-snapshot]");
    if (!box) return;
    const take = box.querySelector("[data-snapshot-take]");
    const preview = box.querySelector("[data-snapshot-preview]");
    const image = box.querySelector("[data-snapshot-image]");
    const send = box.querySelector("[data-snapshot-send]");
    const caption = box.querySelector("[data-snapshot-caption]");
    const note = box.querySelector("[data-snapshot-state]");
    let blob = null;
    const colour = colourControls(box, { sessionId: id, csrf, raw: () => blob, image, words: colourWords(root) });
    take.addEventListener("click", async () => {
      note.textContent = "";
      try {
        const correct = box.querySelector("[data-colour-correct]");
        blob = await takeSnapshot(await grant("publish", "associate")(), { colour: Boolean(correct && correct.checked) });
        image.src = URL.createObjectURL(blob);
        preview.hidden = false;
        colour.reset();
      } catch (err) { note.textContent = err.message || t("No picture yet."); }
    });
    send.addEventListener("click", async () => {
      if (!blob) return;
      const form = new FormData();
      form.append("image", blob, blob.type === "image/png" ? "snapshot.png" : "snapshot.jpg");
      form.append("caption", caption.value);
      colour.extend(form);
      const response = await fetch(`/console/live/${id}/snapshot`, {
        method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) { note.textContent = body.message || t("The snapshot was not sent."); return; }
      blob = null;
      caption.value = "";
      preview.hidden = true;
      note.textContent = t("Sent: the shopper sees it here and keeps it in their conversation with you.");
    });
  }

  transferControl();
  snapshotControl();
  (async () => {
    if (side === "shopper") {
      try { await api("POST", `/api/consultations/${id}/arrive`); } catch (err) { ui.state.textContent = err.message; }
    } else {
      startCamera(); // the associate checks their picture while the shopper waits
    }
    listen();
  })();
}

// --- the associate's day --------------------------------------------------------------

// What is pushed to the associate's console that changes their day: the list is read
// again (GET changes nothing) when one arrives, and when the socket (re)connects.
const DAY_EVENTS = [
  "queue_offer", "queue_offer_withdrawn", "consultation_transferred",
  "shopper_waiting", "appointment_booked", "appointment_cancelled", "message_left",
];
// The waiting count comes pushed too (queue_waiting): it is drawn without a read.

// The statuses the day's lists show, in the page's language (the API sends the codes).
const appointmentStatus = (code) =>
  ({ booked: t("booked"), cancelled: t("cancelled"), completed: t("completed"), no_show: t("no-show") })[code] || code;
const consultationStatus = (code) => ({ waiting: t("waiting"), live: t("live"), ended: t("ended") })[code] || code;

export function consoleToday(root, socketReady = null) {
  const me = Number(root.dataset.associateId);
  const statusSelect = root.querySelector("[data-status-select]");
  const lists = {
    appointments: root.querySelector("[data-appointments]"),
    offers: root.querySelector("[data-offers]"),
    consultations: root.querySelector("[data-consultations]"),
    messages: root.querySelector("[data-messages]"),
  };
  const waiting = root.querySelector("[data-waiting-count]");
  const drawWaiting = (n) => { waiting.textContent = tn("%(n)s shopper waiting", "%(n)s shoppers waiting", n); };
  const note = root.querySelector("[data-note]");
  const say = (text) => { note.textContent = text; };
  const cancelling = new Set(); // appointments whose cancel form is open
  let day = null;

  const empty = (list, text) => list.replaceChildren(el("li", { class: "empty" }, text));

  // A re-render must not lose what is being typed, nor the focus.
  function keep() {
    const values = {};
    for (const t of root.querySelectorAll("textarea[id]")) values[t.id] = t.value;
    return { values, focus: document.activeElement && root.contains(document.activeElement) ? document.activeElement.id : null };
  }
  function restore({ values, focus }) {
    for (const [key, value] of Object.entries(values)) {
      const t = document.getElementById(key);
      if (t) t.value = value;
    }
    if (focus) document.getElementById(focus)?.focus();
  }

  function cancelForm(a, li) {
    const id = `cancel-${a.id}`;
    const form = el("form", { class: "cancel-form", "data-cancel-form": String(a.id) });
    const area = el("textarea", { id, name: "message", rows: "3", maxlength: "500", required: "" });
    const error = el("p", { class: "error", role: "alert" });
    const send = el("button", { type: "submit", class: "primary small" }, t("Cancel the appointment"));
    const keepIt = el("button", { type: "button", class: "small" }, t("Keep it"));
    const to = a.shopper_name ? t("Message to %(name)s (sent by e-mail)", { name: a.shopper_name }) : t("Message to the shopper (sent by e-mail)");
    form.append(el("label", { for: id }, to), area, send, " ", keepIt, error);
    keepIt.addEventListener("click", () => { cancelling.delete(a.id); render(day); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = area.value.trim();
      if (!message) { error.textContent = t("Write a message to the shopper: they will read it in the e-mail."); area.focus(); return; }
      send.disabled = true;
      send.textContent = t("Cancelling…");
      try {
        await api("POST", `/api/console/appointments/${a.id}/cancel`, { message });
        cancelling.delete(a.id);
        area.value = "";
        say(a.shopper_name ? t("Cancelled. %(name)s gets your message by e-mail.", { name: a.shopper_name }) : t("Cancelled. The shopper gets your message by e-mail."));
        refresh();
      } catch (err) {
        send.disabled = false;
        send.textContent = t("Cancel the appointment");
        error.textContent = t("Not cancelled: %(error)s", { error: err.message });
      }
    });
    li.append(form);
    return area;
  }

  function render(data) {
    if (!data) return;
    day = data;
    const kept = keep();
    statusSelect.value = day.status;
    drawWaiting(day.waiting);
    if (!day.appointments.length) empty(lists.appointments, t("No appointments in the next 24 hours."));
    else lists.appointments.replaceChildren(...day.appointments.map((a) => {
      const li = el("li", { "data-appointment-id": String(a.id) });
      const when = new Date(a.starts_at);
      li.append(`${timeLabel(when)} · ${a.shopper_name ? `${a.shopper_name} · ` : ""}${appointmentStatus(a.status)} `);
      if (a.status === "booked" && a.live_session_id) li.append(el("a", { class: "button small", href: `/console/consult/${a.live_session_id}` }, t("Open room")), " ");
      if (a.status === "booked") {
        if (cancelling.has(a.id)) cancelForm(a, li);
        else {
          const open = el("button", { type: "button", class: "small", "data-cancel": String(a.id) }, t("Cancel…"));
          open.addEventListener("click", () => { cancelling.add(a.id); render(day); document.getElementById(`cancel-${a.id}`)?.focus(); });
          li.append(open);
        }
      }
      return li;
    }));
    if (!day.offers.length) empty(lists.offers, t("No request for you right now."));
    else lists.offers.replaceChildren(...day.offers.map((o) => {
      const li = el("li");
      const left = el("span", { "data-expires": o.expires_at || "" });
      const wants = o.mode === "video" ? t("%(name)s wants a video call (%(language)s)", { name: o.shopper_name, language: o.language.toUpperCase() })
        : t("%(name)s wants to chat (%(language)s)", { name: o.shopper_name, language: o.language.toUpperCase() });
      li.append(`${wants} — `, left, " ");
      const yes = el("button", { type: "button", class: "primary small" }, t("Accept"));
      yes.addEventListener("click", async () => {
        try { const c = await api("POST", `/api/queue/${o.id}/accept`); window.location.assign(`/console/consult/${c.id}`); } catch (err) { say(err.code === "offer_passed" || err.code === "offer_gone" ? err.message : t("Not accepted: %(error)s", { error: err.message })); refresh(); }
      });
      const no = el("button", { type: "button", class: "small" }, t("Pass"));
      no.addEventListener("click", async () => { await api("POST", `/api/queue/${o.id}/decline`).catch((e) => say(e.message)); refresh(); });
      li.append(yes, " ", no);
      return li;
    }));
    tick();
    if (!day.consultations.length) empty(lists.consultations, t("No consultation open."));
    else lists.consultations.replaceChildren(...day.consultations.map((c) => {
      const li = el("li", { "data-consultation-id": String(c.id) });
      const state = c.shopper_waiting ? t("waiting to be let in") : consultationStatus(c.status);
      li.append(`${c.shopper_name} · ${state} `);
      li.append(el("a", { class: "button small", href: `/console/consult/${c.id}` }, t("Open")));
      return li;
    }));
    if (!day.messages.length) empty(lists.messages, t("No message waiting for an answer."));
    else lists.messages.replaceChildren(...day.messages.map((m) => {
      const li = el("li");
      li.append(el("p", {}, `${m.name} <${m.email}>: ${m.body}`));
      const form = el("form");
      const label = el("label", { for: `answer-${m.id}` }, t("Answer by e-mail"));
      const area = el("textarea", { id: `answer-${m.id}`, name: "answer", rows: "2", required: "" });
      form.append(label, area, el("button", { type: "submit", class: "small" }, t("Send the answer")));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try { await api("POST", `/api/messages/${m.id}/answer`, { answer: area.value }); area.value = ""; say(t("Answer sent.")); refresh(); } catch (err) { say(err.message); }
      });
      li.append(form);
      return li;
    }));
    restore(kept);
  }

  // The seconds left on each offer count down here, between reads.
  function tick() {
    for (const span of lists.offers.querySelectorAll("[data-expires]")) {
      const ends = Date.parse(span.dataset.expires);
      const left = Number.isNaN(ends) ? null : Math.max(0, Math.round((ends - Date.now()) / 1000));
      span.textContent = left === null ? "" : tn("%(n)s second to answer", "%(n)s seconds to answer", left);
    }
  }

  async function refresh() {
    try { render(await api("GET", `/api/associates/${me}/today`)); root.dataset.loaded = "1"; } catch (err) { say(t("Reconnecting… (%(error)s)", { error: err.message })); }
  }

  statusSelect.addEventListener("change", async () => {
    const wanted = statusSelect.value; // a read landing meanwhile may redraw the select
    try { await api("PUT", `/api/associates/${me}/status`, { status: wanted }); say({ online: t("You are online."), away: t("You are away."), offline: t("You are offline.") }[wanted] || wanted); refresh(); } catch (err) { say(err.message); refresh(); }
  });
  refresh();
  setInterval(tick, 1000); // a clock only: the seconds left on each offer
  if (socketReady) {
    socketReady.then((socket) => {
      if (!socket) return;
      for (const name of DAY_EVENTS) socket.on(name, (data) => {
        if (name === "queue_offer_withdrawn" && data && data.reason === "left") {
          say(t("The shopper left the queue: their request is withdrawn."));
        }
        if (name === "consultation_transferred" && data && data.to_associate_id === me) {
          say(t("A colleague handed you a consultation: it is in Open consultations."));
        }
        refresh();
      });
      socket.on("queue_waiting", (data) => {
        if (day) day.waiting = data.waiting;
        drawWaiting(data.waiting);
      });
      socket.on("connect", () => { root.dataset.live = "true"; refresh(); });
      if (socket.connected) root.dataset.live = "true";
    });
  }
}
