// Consultations in the browser: free slots in the shopper's zone, talk now, the
// associate's day, and the 1:1 consultation room (video both ways, chat, shared bag).
//
// Pages import what they need:
//   import { renderSlots, localTimes, talkNow, consultRoom, consoleToday } from "/static/js/consult.js";
// The room uses media.js (relay publish/view) and live-room.js (chat + bag over Socket.IO).

import { publish, takeSnapshot, view } from "./media.js";
import { LiveRoom } from "./live-room.js";

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
    const error = new Error(data.message || `The server answered ${response.status}.`);
    error.code = data.error;
    error.status = response.status;
    throw error;
  }
  return data;
}

const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const dayLabel = (d) => d.toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long" });
const timeLabel = (d) => d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
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
    script.onerror = () => reject(new Error("Could not load the live client."));
    document.head.appendChild(script);
  });
}

// Free slots as radio buttons grouped by the shopper's local day.
export async function renderSlots({ url, box, status, name, value, label }) {
  box.replaceChildren();
  status.textContent = "Loading free times…";
  let slots;
  try {
    slots = await api("GET", url);
  } catch (err) {
    status.textContent = `We could not load the free times: ${err.message}`;
    return;
  }
  if (!slots.length) {
    status.textContent = "No free time in the next two weeks with these choices. Try another store or associate.";
    return;
  }
  status.textContent = `${slots.length} free times, shown in your time zone (${zone()}).`;
  let group = null;
  let current = "";
  slots.forEach((slot, index) => {
    const when = new Date(slot.starts_at);
    const day = dayLabel(when);
    if (day !== current) {
      current = day;
      group = el("fieldset", { class: "slot-day" });
      group.append(el("legend", {}, day));
      box.append(group);
    }
    const id = `${name}-${index}`;
    const input = el("input", { type: "radio", name, id, value: value(slot), required: "" });
    const lab = el("label", { for: id, class: "check" });
    lab.append(input, ` ${timeLabel(when)}${label(slot)}`);
    group.append(lab);
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
    if (!state.estimated_wait_seconds) return `You are number ${state.position} in line. An associate is free: one moment.`;
    const minutes = Math.max(1, Math.round(state.estimated_wait_seconds / 60));
    return `You are number ${state.position} in line. About ${minutes} min.`;
  };
  const show = (state) => {
    if (done) return;
    if (state.status === "offline") { stop(); showOffline(state.offline); return; }
    if (state.live_session_id) {
      status.textContent = "An associate is with you. Opening the conversation…";
      stop();
      window.location.assign(`/consult/${state.live_session_id}`);
      return;
    }
    section.dataset.position = String(state.position ?? "");
    if (state.status === "offered") {
      status.textContent = "An associate has your request and is about to answer…";
    } else if (state.status === "waiting") {
      status.textContent = waitText(state);
    } else {
      status.textContent = "This request has ended.";
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
      showError(`Reconnecting… (${err.message})`);
    }
  };
  const stop = () => { done = true; };
  // Live means pushed: the place and wait (queue_position) whenever the queue moves, the
  // room when an associate takes the request (queue_accepted).
  const listen = async () => {
    if (socket) return;
    const io = await loadSocketIO().catch(() => null);
    if (!io) { showError("We could not connect: reload the page to see your place."); return; }
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
      showError(`You are still in line: ${err.message}`);
    }
  });
  form.addEventListener("submit", () => { section.querySelector("[data-left]").hidden = true; });
}

// --- the consultation room ----------------------------------------------------------

const STATE_WORDS = {
  shopper: {
    waiting: (n) => `Waiting for ${n} to let you in…`,
    live: (n) => `You are with ${n}.`,
    ended: () => "This consultation has ended. Thank you!",
  },
  associate: {
    waiting: () => "The shopper has not arrived yet.",
    arrived: () => "The shopper is waiting. Let them in when you are ready.",
    live: () => "Live with the shopper.",
    ended: () => "This consultation has ended.",
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
      ui.selfState.textContent = "No camera or microphone: you can still see, hear and chat.";
      return null;
    }
    ui.self.srcObject = stream;
    ui.self.play().catch(() => {});
    ui.selfState.textContent = "Your camera (preview)";
    await listDevices();
    return stream;
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    for (const [select, kind] of [[ui.camera, "videoinput"], [ui.mic, "audioinput"]]) {
      if (!select) continue;
      select.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) =>
        el("option", { value: d.deviceId }, d.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${i + 1}`)));
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
    button.textContent = kind === "video" ? (on ? "Turn camera off" : "Turn camera on") : (on ? "Mute" : "Unmute");
  }

  async function goLive() {
    if (viewer) return;
    const theirs = side === "associate" ? "shopper" : "associate";
    viewer = view(ui.remote, grant("view", theirs));
    viewer.addEventListener("statechange", (e) => {
      const text = { waiting: `${side === "associate" ? "The shopper's" : `${other}'s`} camera is not on yet.`,
        playing: "", connecting: "Connecting the video…", reconnecting: "Reconnecting the video…",
        "host-reconnecting": "Their connection dropped; waiting for them…", offline: "The video server cannot be reached; retrying…" }[e.detail];
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
      if (ui.cameraToggle) ui.cameraToggle.textContent = "Turn camera off";
    } catch (err) {
      ui.selfState.textContent = `Your camera could not be sent: ${err.message}`;
    }
  }

  function connectChat() {
    if (room || !ui.chat) return;
    room = new LiveRoom({ sessionId: id });
    room.addEventListener("statechange", (e) => {
      ui.chatState.textContent = { connecting: "Connecting the chat…", live: "", reconnecting: "Reconnecting the chat…", offline: "Chat offline." }[e.detail] ?? "";
    });
    room.addEventListener("messages", (e) => { for (const m of e.detail) ui.chat.append(renderMessage(m)); ui.chat.scrollTop = ui.chat.scrollHeight; });
    room.addEventListener("joined", (e) => { if (e.detail.state && e.detail.state.bag) renderBag(e.detail.state.bag); });
    room.addEventListener("bag", (e) => renderBag(e.detail));
    room.addEventListener("consultation_transferred", (e) => transferred(e.detail));
    room.addEventListener("error", (e) => { ui.chatState.textContent = e.detail.message || "Chat unavailable."; });
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
      const img = el("img", { src: m.attachment_url, alt: "A picture from your associate" });
      item.append(img);
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
    if (!bag || !bag.lines || !bag.lines.length) { ui.bag.append(el("li", { class: "empty" }, "The bag is empty.")); return; }
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
      words.live = (n) => `You are now with ${n}.`;
      if (status === "live") setState(words.live(other), "live");
      else setState(`You are now with ${data.name}; they will let you in.`, "waiting");
      return;
    }
    if (me !== null && data.to_associate_id === me) {
      setState("A colleague handed you this consultation: it is yours now.", status);
      return;
    }
    handOver(data.name);
  }

  function handOver(name) {
    if (handedAway) return;
    handedAway = true;
    setState(`Handed to ${name}. The consultation is theirs now.`, "handed");
    root.dataset.status = "handed";
    if (ui.admit) ui.admit.hidden = true;
    if (ui.end) ui.end.hidden = true;
    if (ui.transfer) ui.transfer.hidden = true;
    if (publisher) publisher.close();
    if (viewer) viewer.close();
    if (stream) for (const t of stream.getTracks()) t.stop();
    if (room) room.disconnect();
    ui.state.after(el("a", { class: "button", href: "/console/today", "data-back": "" }, "Back to my day"));
  }

  function transferControl() {
    const box = ui.transfer;
    if (!box) return;
    const list = box.querySelector("[data-colleagues]");
    const note = box.querySelector("[data-transfer-state]");
    const load = async () => {
      note.textContent = "Looking for colleagues present…";
      let people;
      try {
        people = await api("GET", `/api/consultations/${id}/colleagues`);
      } catch (err) {
        note.textContent = `We could not load your colleagues: ${err.message}`;
        return;
      }
      list.replaceChildren(...people.map((c) => {
        const li = el("li", { "data-colleague-id": String(c.id) });
        const held = `${c.store ? `${c.store} · ` : ""}${c.load} of ${c.cap} conversations`;
        const button = el("button", { type: "button", class: "small" }, c.has_room ? `Hand to ${c.name}` : `${c.name} is full`);
        button.disabled = !c.has_room;
        li.append(button, el("span", { class: "muted" }, ` ${held}`));
        button.addEventListener("click", async () => {
          button.disabled = true;
          note.textContent = `Handing the consultation to ${c.name}…`;
          try {
            await api("POST", `/api/consultations/${id}/transfer`, { associate_id: c.id });
            handOver(c.name);
          } catch (err) {
            note.textContent = `Not handed over: ${err.message}`;
            load();
          }
        });
        return li;
      }));
      const free = people.filter((c) => c.has_room).length;
      note.textContent = !people.length ? "No colleague is present right now: nobody to hand it to."
        : free ? `${free} of ${people.length} present ${people.length === 1 ? "colleague has" : "colleagues have"} room.`
        : "Every colleague present is full right now.";
    };
    box.addEventListener("toggle", () => { if (box.open) load(); });
    box.querySelector("[data-transfer-refresh]").addEventListener("click", load);
  }

  function show(state) {
    if (handedAway) return false;
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
    take.addEventListener("click", async () => {
      note.textContent = "";
      try {
        blob = await takeSnapshot(await grant("publish", "associate")());
        image.src = URL.createObjectURL(blob);
        preview.hidden = false;
      } catch (err) { note.textContent = err.message || "No picture yet."; }
    });
    send.addEventListener("click", async () => {
      if (!blob) return;
      const form = new FormData();
      form.append("image", blob, "snapshot.jpg");
      form.append("caption", caption.value);
      const response = await fetch(`/console/live/${id}/snapshot`, {
        method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) { note.textContent = body.message || "The snapshot was not sent."; return; }
      blob = null;
      caption.value = "";
      preview.hidden = true;
      note.textContent = "Sent: the shopper sees it here and keeps it in their conversation with you.";
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
  const drawWaiting = (n) => { waiting.textContent = n === 1 ? "1 shopper waiting" : `${n} shoppers waiting`; };
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
    const send = el("button", { type: "submit", class: "primary small" }, "Cancel the appointment");
    const keepIt = el("button", { type: "button", class: "small" }, "Keep it");
    form.append(el("label", { for: id }, `Message to ${a.shopper_name || "the shopper"} (sent by e-mail)`), area, send, " ", keepIt, error);
    keepIt.addEventListener("click", () => { cancelling.delete(a.id); render(day); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = area.value.trim();
      if (!message) { error.textContent = "Write a message to the shopper: they will read it in the e-mail."; area.focus(); return; }
      send.disabled = true;
      send.textContent = "Cancelling…";
      try {
        await api("POST", `/api/console/appointments/${a.id}/cancel`, { message });
        cancelling.delete(a.id);
        area.value = "";
        say(`Cancelled. ${a.shopper_name || "The shopper"} gets your message by e-mail.`);
        refresh();
      } catch (err) {
        send.disabled = false;
        send.textContent = "Cancel the appointment";
        error.textContent = `Not cancelled: ${err.message}`;
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
    if (!day.appointments.length) empty(lists.appointments, "No appointments in the next 24 hours.");
    else lists.appointments.replaceChildren(...day.appointments.map((a) => {
      const li = el("li", { "data-appointment-id": String(a.id) });
      const when = new Date(a.starts_at);
      li.append(`${timeLabel(when)} · ${a.shopper_name ? `${a.shopper_name} · ` : ""}${a.status} `);
      if (a.status === "booked" && a.live_session_id) li.append(el("a", { class: "button small", href: `/console/consult/${a.live_session_id}` }, "Open room"), " ");
      if (a.status === "booked") {
        if (cancelling.has(a.id)) cancelForm(a, li);
        else {
          const open = el("button", { type: "button", class: "small", "data-cancel": String(a.id) }, "Cancel…");
          open.addEventListener("click", () => { cancelling.add(a.id); render(day); document.getElementById(`cancel-${a.id}`)?.focus(); });
          li.append(open);
        }
      }
      return li;
    }));
    if (!day.offers.length) empty(lists.offers, "No request for you right now.");
    else lists.offers.replaceChildren(...day.offers.map((o) => {
      const li = el("li");
      const left = el("span", { "data-expires": o.expires_at || "" });
      li.append(`${o.shopper_name} wants to ${o.mode} (${o.language.toUpperCase()}) — `, left, " ");
      const yes = el("button", { type: "button", class: "primary small" }, "Accept");
      yes.addEventListener("click", async () => {
        try { const c = await api("POST", `/api/queue/${o.id}/accept`); window.location.assign(`/console/consult/${c.id}`); } catch (err) { say(err.code === "offer_passed" || err.code === "offer_gone" ? err.message : `Not accepted: ${err.message}`); refresh(); }
      });
      const no = el("button", { type: "button", class: "small" }, "Pass");
      no.addEventListener("click", async () => { await api("POST", `/api/queue/${o.id}/decline`).catch((e) => say(e.message)); refresh(); });
      li.append(yes, " ", no);
      return li;
    }));
    tick();
    if (!day.consultations.length) empty(lists.consultations, "No consultation open.");
    else lists.consultations.replaceChildren(...day.consultations.map((c) => {
      const li = el("li", { "data-consultation-id": String(c.id) });
      li.append(`${c.shopper_name} · ${c.shopper_waiting ? "waiting to be let in" : c.status} `);
      li.append(el("a", { class: "button small", href: `/console/consult/${c.id}` }, "Open"));
      return li;
    }));
    if (!day.messages.length) empty(lists.messages, "No message waiting for an answer.");
    else lists.messages.replaceChildren(...day.messages.map((m) => {
      const li = el("li");
      li.append(el("p", {}, `${m.name} <${m.email}>: ${m.body}`));
      const form = el("form");
      const label = el("label", { for: `answer-${m.id}` }, "Answer by e-mail");
      const area = el("textarea", { id: `answer-${m.id}`, name: "answer", rows: "2", required: "" });
      form.append(label, area, el("button", { type: "submit", class: "small" }, "Send the answer"));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try { await api("POST", `/api/messages/${m.id}/answer`, { answer: area.value }); area.value = ""; say("Answer sent."); refresh(); } catch (err) { say(err.message); }
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
      span.textContent = left === null ? "" : `${left}s to answer`;
    }
  }

  async function refresh() {
    try { render(await api("GET", `/api/associates/${me}/today`)); root.dataset.loaded = "1"; } catch (err) { say(`Reconnecting… (${err.message})`); }
  }

  statusSelect.addEventListener("change", async () => {
    const wanted = statusSelect.value; // a read landing meanwhile may redraw the select
    try { await api("PUT", `/api/associates/${me}/status`, { status: wanted }); say(`You are ${wanted}.`); refresh(); } catch (err) { say(err.message); refresh(); }
  });
  refresh();
  setInterval(tick, 1000); // a clock only: the seconds left on each offer
  if (socketReady) {
    socketReady.then((socket) => {
      if (!socket) return;
      for (const name of DAY_EVENTS) socket.on(name, (data) => {
        if (name === "queue_offer_withdrawn" && data && data.reason === "left") {
          say("The shopper left the queue: their request is withdrawn.");
        }
        if (name === "consultation_transferred" && data && data.to_associate_id === me) {
          say("A colleague handed you a consultation: it is in Open consultations.");
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
