// The host console for a show: camera preview with device choice, go live / end,
// pins from a catalogue search, product cards into the chat, flash offers,
// try-on snapshots, moderation, live viewers and the add-to-bag feed.
import { LiveRoom } from "./live-room.js";
import { publish, takeSnapshot } from "./media.js";
import { colourControls, colourReport, colourWords } from "./colour.js";
import { api, el, money, readJson, stockText, untilText } from "./ui.js";
import { pageLang, st } from "./strings.js";

const root = document.getElementById("host-root");
const sessionId = Number(root.dataset.sessionId);
const showId = Number(root.dataset.showId);
const brandId = Number(root.dataset.brandId);
const currency = root.dataset.currency;
const $ = (id) => document.getElementById(id);

let stream = null;
let publisher = null;
let status = root.dataset.status;
let showStatus = root.dataset.showStatus;
let pins = readJson("initial-pins", []);
let bagAdds = 0;
let snapshotBlob = null;

const grant = (role) => () => api(`/api/live-sessions/${sessionId}/media-grant`, {
  method: "POST", body: { role, room_suffix: "" },
});

function showError(text) { $("host-error").textContent = text || ""; }

function setBadge(state, words) {
  const badge = $("host-state");
  badge.dataset.state = state;
  badge.textContent = words;
}

// --- camera ----------------------------------------------------------------------

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, id] of [["videoinput", "camera"], ["audioinput", "microphone"]]) {
    const select = $(id);
    const chosen = select.value;
    select.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) =>
      el("option", { value: d.deviceId, text: d.label || st(id === "camera" ? "cameraN" : "microphoneN", { n: i + 1 }) })));
    if (chosen) select.value = chosen;
  }
}

async function startCamera() {
  showError("");
  const constraints = {
    video: $("camera").value ? { deviceId: { exact: $("camera").value } } : { width: 1280, height: 720 },
    audio: $("microphone").value ? { deviceId: { exact: $("microphone").value } } : true,
  };
  try {
    const next = await navigator.mediaDevices.getUserMedia(constraints);
    if (publisher) for (const track of next.getTracks()) await publisher.replaceTrack(track);
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = next;
    $("preview").srcObject = stream;
    renderCheck(stream);
    await listDevices();
    checkUplink(stream);
    $("start-camera").textContent = st("restartCamera");
    if (!publisher) setBadge("waiting", st("cameraOnNotLive"));
  } catch (err) {
    const words = {
      NotAllowedError: st("NotAllowedError"),
      NotFoundError: st("NotFoundError"),
      OverconstrainedError: st("OverconstrainedError"),
      NotReadableError: st("NotReadableError"),
    }[err.name] || st("cameraFailed", { error: err.message });
    showError(words);
    $("check-error").textContent = words;
  }
}

// --- the pre-show check: devices by name, the microphone's level, the uplink -----------

let audio = null;
let levelSource = null;
let levelTimer = null;

function renderCheck(current) {
  $("check-error").textContent = "";
  const [video] = current.getVideoTracks();
  const [mic] = current.getAudioTracks();
  $("check-camera").textContent = video ? video.label || st("cameraOn") : st("noCamera");
  $("check-microphone").textContent = mic ? mic.label || st("microphoneOn") : st("noMicrophone");
  watchLevel(current);
}

const percent = new Intl.NumberFormat(pageLang(), { style: "percent", maximumFractionDigits: 0 });

// The microphone's loudness (RMS of the waveform) on a <meter>, from a Web Audio analyser.
function watchLevel(current) {
  if (!current.getAudioTracks().length) return;
  audio = audio || new AudioContext();
  audio.resume().catch(() => {});
  const analyser = audio.createAnalyser();
  analyser.fftSize = 1024;
  levelSource?.disconnect();
  levelSource = audio.createMediaStreamSource(current);
  levelSource.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  clearInterval(levelTimer);
  levelTimer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    const meter = $("mic-level");
    meter.value = level;
    meter.textContent = percent.format(level);
    $("mic-level-words").textContent = st(level < 0.05 ? "silent" : level > 0.8 ? "loud" : "sound");
  }, 100);
}

// Before going live, the uplink, honestly: a burst of random bytes (incompressible) sent
// to the relay the camera will use, timed by the relay as it receives it; then, in words,
// whether that is enough for the picture the chosen camera gives. Once, when the check
// starts or the camera changes: an event, no timer.
const BURST_BYTES = 1536 * 1024;
let uplinkChecking = false;

function randomBurst() {
  const bytes = new Uint8Array(BURST_BYTES);
  for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return new Blob([bytes], { type: "application/octet-stream" });
}

// What the relay's viewers get from this camera needs about this much (kbit/s), audio in.
function neededKbps(current) {
  const [video] = current.getVideoTracks();
  const { width = 1280, height = 720, frameRate = 30 } = video ? video.getSettings() : {};
  const lines = Math.min(width, height) || 720;
  const base = lines >= 1080 ? 4500 : lines >= 720 ? 2500 : lines >= 480 ? 1200 : 700;
  return { kbps: Math.round(base * Math.min(frameRate || 30, 60) / 30) + 128, size: `${width}×${height}` };
}

const mbit = (kbps) => (kbps / 1000).toFixed(1);
const fill = (text, values) => text.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");

async function checkUplink(current) {
  const box = $("check-uplink");
  if (uplinkChecking || publisher || !current) return;
  uplinkChecking = true;
  box.dataset.verdict = "measuring";
  box.textContent = box.dataset.measuring;
  try {
    const info = await grant("publish")();
    const response = await fetch(`${info.relay_url}/rooms/${encodeURIComponent(info.room)}/uplink-check`, {
      method: "POST", headers: { Authorization: `Bearer ${info.grant}` }, body: randomBurst(),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.message || response.statusText);
    const need = neededKbps(current);
    const verdict = answer.kbps >= need.kbps * 1.5 ? "enough" : answer.kbps >= need.kbps ? "tight" : "short";
    box.dataset.verdict = verdict;
    box.dataset.kbps = String(answer.kbps);
    box.textContent = fill(box.dataset[verdict], { speed: mbit(answer.kbps), size: need.size, need: mbit(need.kbps) });
  } catch (err) {
    box.dataset.verdict = "failed";
    box.textContent = fill(box.dataset.failed, { reason: err.message || "" });
  } finally {
    uplinkChecking = false;
  }
}

// Once live, what the browser reports it sent to the relay (getStats).
let uplinkTimer = null;
let lastSent = null;

async function measureUplink() {
  const pc = publisher?.pc;
  if (!pc) return;
  let bytes = 0;
  let at = 0;
  const report = await pc.getStats();
  report.forEach((entry) => {
    if (entry.type === "outbound-rtp") { bytes += entry.bytesSent || 0; at = entry.timestamp; }
  });
  if (lastSent && at > lastSent.at) {
    const kbps = ((bytes - lastSent.bytes) * 8) / (at - lastSent.at);
    $("check-uplink").textContent = st("uplink", { kbps: new Intl.NumberFormat(pageLang()).format(Math.round(kbps)) });
  }
  lastSent = { bytes, at };
}

function watchUplink() {
  clearInterval(uplinkTimer);
  lastSent = null;
  uplinkTimer = setInterval(() => measureUplink().catch(() => {}), 2000);
}

// --- the show's state: go live, end (the server offers exactly the moves allowed) --------

const STATUS_WORDS = {
  draft: st("draft"), scheduled: st("scheduled"), live: st("live"), ended: st("ended"),
  replay_published: st("replay_published"), replay_hidden: st("replay_hidden"), cancelled: st("cancelled"),
};

function renderShowStatus(next) {
  showStatus = next;
  const pill = $("show-status");
  pill.className = `pill ${next}`;
  pill.dataset.status = next;
  pill.textContent = STATUS_WORDS[next] || next;
  if ($("go-live-form")) $("go-live-form").hidden = next !== "scheduled";
  if ($("end-form")) $("end-form").hidden = next !== "live";
  if ($("resume")) $("resume").hidden = next !== "live" || Boolean(publisher);
  if (next !== "live" && next !== "scheduled") {
    $("snapshot").disabled = true;
    if (publisher) publisher.close();
    publisher = null;
    setBadge("ended", STATUS_WORDS[next] || st("ended"));
  }
}

async function goLive(event) {
  event?.preventDefault();
  showError("");
  if (!stream) await startCamera();
  if (!stream) return;
  const button = event?.submitter || $("go-live") || $("resume");
  if (button) button.disabled = true;
  setBadge("connecting", st("goingLive"));
  try {
    // Resuming a live show only puts the camera back on air: the show is live already.
    if (showStatus !== "live") {
      await api(`/api/shows/${showId}/start`, { method: "POST" });
      renderShowStatus("live");
    }
    publisher = await publish(stream, grant("publish"));
    watchUplink();
    publisher.addEventListener("statechange", (e) => renderPublisher(e.detail));
    renderPublisher(publisher.state);
    status = "live";
    $("snapshot").disabled = false;
  } catch (err) {
    showError(err.message || st("couldNotGoLive"));
    setBadge("offline", st("notLive"));
  } finally {
    if (button) button.disabled = false;
  }
}

function renderPublisher(state) {
  const words = { connecting: st("connecting"), live: st("live"), reconnecting: st("reconnecting"), failed: st("connectionFailed"), closed: st("offAir") };
  setBadge(state === "live" ? "live" : state === "closed" ? "ended" : "reconnecting", words[state] || state);
  if ($("resume")) $("resume").hidden = state === "live" || state === "connecting" || state === "reconnecting";
}

async function endShow(event) {
  event.preventDefault();
  if (!window.confirm(st("confirmEnd"))) return;
  try {
    if (publisher) publisher.close();
    publisher = null;
    await api(`/api/shows/${showId}/end`, { method: "POST" });
    status = "ended";
    renderShowStatus("ended");
  } catch (err) {
    showError(err.message);
  }
}

// --- snapshots ---------------------------------------------------------------------

async function snap() {
  showError("");
  try {
    const correct = document.querySelector("[data-colour-correct]");
    snapshotBlob = await takeSnapshot(await grant("publish")(), { colour: Boolean(correct && correct.checked) });
    $("snapshot-image").src = URL.createObjectURL(snapshotBlob);
    $("snapshot-preview").hidden = false;
    colour.reset();
  } catch (err) {
    showError(err.message || st("noPicture"));
  }
}

// Corrected against the reference card when it is in view (web/static/js/colour.js).
const colour = colourControls(document.querySelector("[data-snapshot-box]"), {
  sessionId: Number(root.dataset.sessionId),
  csrf: () => document.querySelector('meta[name="csrf-token"]').content,
  raw: () => snapshotBlob,
  image: $("snapshot-image"),
  words: colourWords(root),
});

async function sendSnapshot() {
  if (!snapshotBlob) return;
  const form = new FormData();
  form.append("image", snapshotBlob, snapshotBlob.type === "image/png" ? "snapshot.png" : "snapshot.jpg");
  colour.extend(form);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(root.dataset.snapshotUrl, {
    method: "POST", body: form, headers: { "X-CSRFToken": csrf, Accept: "application/json" },
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    showError(body.message || st("snapshotNotSent"));
    return;
  }
  snapshotBlob = null;
  $("snapshot-preview").hidden = true;
}

// --- pins and catalogue ------------------------------------------------------------

const MAX_PINS = 3; // sessions/live.py: a 4th pin is refused (409) until one is unpinned

function renderPins() {
  const list = $("pinned-list");
  list.replaceChildren(...(pins.length ? pins.map((card) => el("li", { "data-product-id": card.id },
    el("span", {}, el("strong", { text: card.name }), " ",
      el("span", { class: "muted", "data-stock": true, text: stockText(card.stock) })),
    el("span", {},
      // One pin at a time is "showing now": the viewers' player puts it first, marked.
      el("button", { type: "button", class: card.showing ? "small primary" : "small", text: st("showingNow"),
        "aria-pressed": String(Boolean(card.showing)), "aria-label": st("showingNowLabel", { name: card.name }),
        onclick: () => act(room.showNow(card.showing ? null : card.id)) }),
      " ",
      el("button", { type: "button", class: "small", text: st("pushToChat"), onclick: () => act(room.pushProduct(card.id)) }),
      " ",
      el("button", { type: "button", class: "small", text: st("unpin"), "aria-label": st("unpinLabel", { name: card.name }), onclick: () => act(room.unpin(card.id)) })),
  )) : [el("li", { class: "empty", text: st("nothingPinned") })]));
  const count = $("pins-count");
  if (count) count.textContent = st("pinsCount", { pinned: pins.length, most: MAX_PINS });
  const select = $("offer-product");
  select.replaceChildren(...pins.map((card) => el("option", { value: card.id, text: card.name })));
}

async function act(promise) {
  const ack = await promise;
  if (!ack.ok) showError(ack.message || st("didNotWork"));
  else showError("");
  return ack;
}

let searchTimer = null;
async function search() {
  const q = $("search").value.trim();
  const results = $("search-results");
  if (!q) { results.replaceChildren(); return; }
  results.replaceChildren(el("li", { class: "muted", text: st("searching") }));
  try {
    const products = await api(`/api/brands/${brandId}/products?q=${encodeURIComponent(q)}&limit=10`);
    results.replaceChildren(...(products.length ? products.map((p) => el("li", {},
      el("span", {}, p.name, " ", el("span", { class: "muted", text: `${money(p.price_minor, p.currency)} · ${stockText(p.stock)}` })),
      el("button", { type: "button", class: "small", text: st("pin"), "aria-label": st("pinLabel", { name: p.name }), onclick: () => act(room.pin(p.id)) }),
    )) : [el("li", { class: "empty", text: st("noProductMatches") })]));
  } catch (err) {
    results.replaceChildren(el("li", { class: "form-error", text: err.message }));
  }
}

// --- offers --------------------------------------------------------------------------

async function startOffer(event) {
  event.preventDefault();
  const form = event.target;
  const price = Math.round(Number(String(form.price.value).replace(",", ".")) * 100);
  if (!form.product_id.value) { $("offer-error").textContent = st("pinFirst"); return; }
  if (!Number.isFinite(price) || price < 0) { $("offer-error").textContent = st("enterOfferPrice"); form.price.focus(); return; }
  const ack = await room.startOffer({
    productId: form.product_id.value, priceMinor: price,
    quantity: form.quantity.value, seconds: form.seconds.value,
  });
  $("offer-error").textContent = ack.ok ? "" : ack.message || st("offerNotStarted");
}

let offerTimer = null;
function renderOffer(offer) {
  clearInterval(offerTimer);
  const box = $("offer-live");
  if (!offer) { box.textContent = ""; return; }
  const tick = () => {
    const end = Date.parse(offer.ends_at);
    box.textContent = end > Date.now()
      ? st("offerRunning", { price: money(offer.price_minor, currency), left: offer.remaining, time: untilText(end) })
      : st("offerEnded");
  };
  tick();
  offerTimer = setInterval(tick, 1000);
}

// --- chat and moderation ----------------------------------------------------------

function messageItem(message) {
  const item = el("li", { class: message.author_role, "data-message-id": message.id },
    el("span", { class: "author", text: message.author }),
    el("span", { class: "body", text: message.kind === "product" ? st("productCard", { name: message.body }) : message.body }));
  if (message.attachment_url) item.append(el("img", { class: "snapshot", src: message.attachment_url, alt: st("snapshotSent") }));
  if (message.colour) item.append(colourReport(message.colour, colourWords(root)));
  if (message.author_role === "shopper") {
    item.append(el("span", { class: "msg-actions" },
      el("button", { type: "button", class: "link-button", text: st("delete"), "aria-label": st("deleteLabel", { name: message.author }),
        onclick: () => act(room.deleteMessage(message.id)) })));
  }
  return item;
}

function renderParticipants(list) {
  const box = $("participants");
  box.replaceChildren(...(list.length ? list.map((p) => el("li", {},
    el("span", { text: p.muted ? st("mutedName", { name: p.name }) : p.name }),
    el("span", {},
      p.muted
        ? el("button", { type: "button", class: "small", text: st("unmute"), onclick: () => act(room.unmute(p.shopper_id)) })
        : el("button", { type: "button", class: "small", text: st("mute"), "aria-label": st("muteLabel", { name: p.name }), onclick: () => act(room.mute(p.shopper_id, 10)) }),
      " ",
      el("button", { type: "button", class: "small danger", text: st("ban"), "aria-label": st("banLabel", { name: p.name }), onclick: () => act(room.ban(p.shopper_id)) })),
  )) : [el("li", { class: "empty", text: st("noOneJoined") })]));
}

function applyStock({ product_id, product_stock }) {
  const card = pins.find((p) => p.id === product_id);
  if (card) card.stock = product_stock;
  const node = document.querySelector(`#pinned-list [data-product-id="${product_id}"] [data-stock]`);
  if (node) node.textContent = stockText(product_stock);
}

function addFeed(event) {
  bagAdds += event.quantity;
  $("stat-bag").textContent = String(bagAdds);
  const feed = $("bag-feed");
  feed.querySelector(".empty")?.remove();
  const size = [event.size, event.colour].filter(Boolean).join(" · ");
  // The contract has {name: shopper, product_name}; some senders put the product in `name`.
  const product = event.product_name || event.name;
  const who = event.product_name ? event.name : st("aShopper");
  const what = size ? `${product} (${size})` : product;
  feed.prepend(el("li", { text: st("added", { who, quantity: event.quantity, product: what }) }));
}

// --- wiring --------------------------------------------------------------------------

const room = new LiveRoom({ sessionId });
room.addEventListener("relay_moved", (event) => { if (publisher) publisher.moved(event.detail.relay_url); });
room.addEventListener("joined", (event) => {
  const { state } = event.detail;
  pins = state.pinned || pins;
  renderPins();
  renderOffer(state.offer);
  $("viewer-count").textContent = $("stat-viewers").textContent = String(state.viewers);
  $("stat-hearts").textContent = String(state.hearts);
});
room.addEventListener("statechange", (event) => {
  if (event.detail === "reconnecting" || event.detail === "offline") {
    $("chat-status").textContent = event.detail === "offline" ? st("offline") : st("reconnectingChat");
  } else {
    $("chat-status").textContent = "";
  }
});
room.addEventListener("messages", (event) => {
  const box = $("messages");
  for (const message of event.detail) box.append(messageItem(message));
  box.scrollTop = box.scrollHeight;
});
room.addEventListener("message_deleted", (event) => document.querySelector(`[data-message-id="${event.detail.id}"]`)?.remove());
room.addEventListener("presence", (event) => { $("viewer-count").textContent = $("stat-viewers").textContent = String(event.detail.viewers); });
room.addEventListener("hearts", (event) => { $("stat-hearts").textContent = String(event.detail.total); });
room.addEventListener("participants", (event) => renderParticipants(event.detail));
room.addEventListener("pins", (event) => { pins = event.detail.pinned; renderPins(); });
room.addEventListener("stock", (event) => applyStock(event.detail));
room.addEventListener("offer", (event) => renderOffer(event.detail));
room.addEventListener("bag_event", (event) => addFeed(event.detail));
// Bag value and revenue so far, counted by the server from stored events and orders.
room.addEventListener("live_figures", (event) => {
  const currency = $("stat-bag-value").dataset.currency;
  const format = (minor) => new Intl.NumberFormat(pageLang(), { style: "currency", currency }).format(minor / 100);
  $("stat-bag-value").textContent = format(event.detail.add_value_minor);
  $("stat-revenue").textContent = format(event.detail.revenue_minor);
});
// Another host, or the brand's admin, moved the show: every console follows.
room.addEventListener("show_state", (event) => {
  if (event.detail.status === "live") status = "live";
  if (event.detail.status !== showStatus) renderShowStatus(event.detail.status);
});
room.addEventListener("error", (event) => showError(event.detail.message));

$("start-camera").addEventListener("click", startCamera);
$("check-start").addEventListener("click", startCamera);
$("camera").addEventListener("change", () => { if (stream) startCamera(); });
$("microphone").addEventListener("change", () => { if (stream) startCamera(); });
$("go-live-form")?.addEventListener("submit", goLive);
$("resume")?.addEventListener("click", goLive);
$("end-form")?.addEventListener("submit", endShow);
$("snapshot").addEventListener("click", snap);
$("send-snapshot").addEventListener("click", sendSnapshot);
$("discard-snapshot").addEventListener("click", () => { snapshotBlob = null; $("snapshot-preview").hidden = true; });
$("search-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });
$("search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
$("offer-form").addEventListener("submit", startOffer);
$("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("chat-input");
  if (!input.value.trim()) return;
  const ack = await room.sendChat(input.value.trim());
  if (ack.ok) input.value = ""; else $("chat-status").textContent = ack.message;
});

if (showStatus === "live") {
  setBadge("reconnecting", st("liveNotSending"));
} else if (showStatus === "scheduled" || showStatus === "draft") {
  setBadge("waiting", st("notLive"));
} else {
  setBadge("ended", STATUS_WORDS[showStatus] || st("ended"));
}
renderPins();
room.connect();
