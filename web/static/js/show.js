// The shopper's show page (and the embed): video, chat, hearts, pinned products with
// live stock, add to bag without leaving the video, bag drawer, flash offer, and
// honest connection states.
import { LiveRoom } from "./live-room.js";
import { view } from "./media.js";
import { colourReport, colourWords } from "./colour.js";
import { api, apiHeaders, el, localName, money, readJson, stockText, t, tn, untilText } from "./ui.js";

const root = document.getElementById("show-root");
const sessionId = Number(root.dataset.sessionId);
const currency = root.dataset.currency;
const embedToken = root.dataset.embedToken || "";
const $ = (id) => document.getElementById(id);

let sessionStatus = root.dataset.status; // waiting | live | ended
let mediaState = "connecting";
let socketState = "connecting";
let viewer = null;
let offerTimer = null;
// The host's pins, or else the show's own product list (what the page rendered first).
const featured = readJson("initial-pins", []);
let pins = featured;
const pinsOrFeatured = (pinned) => (pinned && pinned.length ? pinned : featured);
let bag = readJson("initial-bag", { count: 0, total_minor: 0, currency, lines: [] });
// A published replay: its chat and product timeline, on the recording's clock (seconds).
const script = root.dataset.replay ? readJson("replay-script", { products: [], messages: [] }) : null;

if (embedToken) apiHeaders["X-Vitrine-Embed"] = embedToken;

// --- connection state: one badge, in words --------------------------------------

const LABELS = {
  connecting: t("Connecting…"),
  live: t("Live"),
  waiting: t("Starting soon"),
  "host-reconnecting": t("Host reconnecting…"),
  reconnecting: t("Reconnecting…"),
  ended: t("Ended"),
  offline: t("You are offline"),
  cancelled: t("Cancelled"),
};

function overallState() {
  if (navigator.onLine === false || socketState === "offline") return "offline";
  if (root.dataset.showStatus === "cancelled") return "cancelled";
  if (sessionStatus === "ended") return "ended";
  if (socketState === "reconnecting") return "reconnecting";
  if (sessionStatus === "waiting") return "waiting";
  if (mediaState === "host-reconnecting") return "host-reconnecting";
  if (mediaState === "reconnecting" || mediaState === "offline") return "reconnecting";
  if (mediaState === "playing" || mediaState === "hls") return "live";
  return "connecting";
}

function renderState() {
  const state = overallState();
  const badge = $("state-badge");
  badge.dataset.state = state;
  badge.textContent = LABELS[state];
  document.body.dataset.connection = state;
  const message = $("stage-message");
  // Early, before a scheduled show: the slate stands in for the stage message.
  const early = state === "waiting" && root.dataset.showStatus === "scheduled";
  if ($("slate")) $("slate").hidden = !early;
  if (early) { message.hidden = true; return; }
  if (state === "ended" && document.getElementById("replay")) {
    badge.textContent = t("Replay"); // the recording plays in place of the live picture
    message.hidden = true;
    return;
  }
  const words = {
    ended: t("This show has ended. Thank you for watching."),
    offline: t("You are offline. We will reconnect as soon as the network is back."),
    "host-reconnecting": t("The host's connection dropped. They will be back in a moment."),
    cancelled: t("This show was cancelled."),
  }[state];
  if (words) {
    message.textContent = words;
    message.hidden = false;
  } else if (state !== "waiting") {
    message.hidden = true;
  } else {
    message.hidden = false;
  }
}

function startVideo() {
  if (viewer || sessionStatus !== "live") return;
  const cohostVideo = $("cohost-player");
  viewer = view($("player"), () => api(`/api/live-sessions/${sessionId}/media-grant`, {
    method: "POST", body: { role: "view", room_suffix: "" },
  }), { cohostVideo });
  viewer.addEventListener("statechange", (event) => { mediaState = event.detail; renderState(); });
  // The relay's own word on the co-host camera (a co-host whose page closed says nothing).
  viewer.addEventListener("status", (event) => { relayCohost = event.detail.cohost || null; renderCohost(); });
}

// --- the co-host's tile: pushed by the room ("cohost"), checked against the relay --------

let cohost = null;
let relayCohost = null;

function renderCohost(next = cohost) {
  cohost = next;
  const tile = $("cohost-tile");
  if (!tile) return;
  const onAir = Boolean(cohost && cohost.status === "accepted" && cohost.on_air && relayCohost !== "none");
  tile.hidden = !onAir;
  tile.closest(".stage").dataset.cohost = onAir ? "on" : "off";
  if (cohost) {
    $("cohost-label").textContent = cohost.muted ? `${cohost.name} · ${tile.dataset.mutedWord}` : cohost.name;
  }
  // Sound follows the page's "Sound on": the co-host's too, unless the host muted them.
  $("cohost-player").muted = $("player").muted;
}

function stopVideo() {
  if (viewer) viewer.close();
  viewer = null;
}

// --- products ------------------------------------------------------------------

function productCard(card, idPrefix = "variant") {
  const status = el("p", { class: "status", role: "status" });
  const select = el("select", { id: `${idPrefix}-${card.id}`, name: "variant_id" });
  for (const v of card.variants) {
    const size = v.size || t("One size");
    const left = t("%(n)s left", { n: v.stock });
    const label = `${size}${v.colour ? ` · ${v.colour}` : ""} — ${left}`;
    select.append(el("option", { value: v.id, disabled: v.stock <= 0, text: label }));
  }
  const form = el("form", { "data-add-to-bag": true },
    el("label", { for: `${idPrefix}-${card.id}`, text: t("Size / colour") }), select,
    el("button", { type: "submit", class: "primary", text: t("Add to bag") }), status);
  return el("article", { class: card.showing ? "product-card showing" : "product-card", "data-product-id": card.id },
    card.image_url ? el("img", { src: card.image_url, alt: "" }) : el("div", { class: "ph" }),
    el("div", {},
      card.showing ? el("p", { class: "showing-now", text: t("Showing now") }) : null,
      el("h3", {}, el("a", { href: card.url, target: embedToken ? "_blank" : null, text: localName(card) })),
      el("p", { class: "price", text: money(card.price_minor, card.currency) }),
      el("p", { class: stockClass(card.stock), "data-stock": true, text: stockText(card.stock) }),
      // The phone player: the sizes and "add to bag" open in the sheet, over the video.
      el("button", { type: "button", class: "small primary shop-button", "data-open-sheet": true,
        "aria-label": t("Shop %(name)s", { name: localName(card) }), text: t("Shop") }),
      form));
}

const stockClass = (stock) => (stock <= 0 ? "stock out" : stock <= 3 ? "stock low" : "stock");

// What the player shows as pinned: the room's pins live; in a replay, what was pinned at
// the recording's current second.
const shownCards = () => (script ? replayCards() : pins);

function renderPins() {
  const box = $("pinned");
  const cards = shownCards();
  box.replaceChildren(...(cards.length
    ? cards.map((card) => productCard(card))
    : [el("p", { class: "empty", text: script ? t("No product at this moment of the show.") : t("Products appear here when the host shows them.") })]));
}

const allCards = () => [...pins, ...(script ? script.products.map((item) => item.card) : [])];

function applyStock({ product_id, variant_id, stock, product_stock }) {
  for (const card of allCards()) {
    if (card.id !== product_id) continue;
    card.stock = product_stock;
    for (const v of card.variants) if (v.id === variant_id) v.stock = stock;
  }
  for (const node of document.querySelectorAll(`.product-card[data-product-id="${product_id}"]`)) {
    const stockNode = node.querySelector("[data-stock]");
    stockNode.textContent = stockText(product_stock);
    stockNode.className = stockClass(product_stock);
    const option = node.querySelector(`option[value="${variant_id}"]`);
    if (option) {
      option.disabled = stock <= 0;
      option.textContent = option.textContent.replace(/— -?\d+ left$/, `— ${stock} left`);
    }
  }
}

async function onAddToBag(event) {
  const form = event.target.closest("form[data-add-to-bag]");
  if (!form) return;
  event.preventDefault();
  const status = form.querySelector(".status");
  const button = form.querySelector("button");
  button.disabled = true;
  status.textContent = t("Adding…");
  const ack = await room.addToBag(form.variant_id.value, 1);
  button.disabled = false;
  if (ack.ok) {
    status.textContent = t("Added to your bag.");
    if (ack.bag) renderBag(ack.bag);
    if (ack.stock) {
      const productId = Number(form.closest(".product-card").dataset.productId);
      applyStock({
        product_id: productId, ...ack.stock,
        product_stock: ack.stock.product_stock ?? productStock(ack.stock),
      });
    }
  } else {
    status.textContent = ack.message || t("Could not add it; try again.");
  }
}

function productStock({ variant_id, stock }) {
  for (const card of allCards()) {
    if (card.variants.some((x) => x.id === variant_id)) return card.variants.reduce((sum, x) => sum + (x.id === variant_id ? stock : x.stock), 0);
  }
  return stock;
}

// --- bag -----------------------------------------------------------------------

function renderBag(next) {
  bag = next;
  for (const node of document.querySelectorAll("[data-bag-count]")) {
    node.textContent = String(bag.count);
    node.setAttribute("aria-label", tn("%(num)s item in your bag", "%(num)s items in your bag", bag.count, { num: bag.count }));
  }
  for (const node of document.querySelectorAll("[data-bag-count-text]")) {
    node.textContent = tn("%(n)s piece", "%(n)s pieces", bag.count);
  }
  for (const lines of document.querySelectorAll("[data-bag-lines]")) {
    lines.replaceChildren(...(bag.lines.length ? bag.lines.map((line) => el("li", { class: "bag-line" },
      line.image_url ? el("img", { src: line.image_url, alt: "" }) : el("div", { class: "ph" }),
      el("div", {}, el("strong", { text: localName(line) }), el("br"),
        el("span", { class: "muted", text: `${line.size}${line.colour ? ` · ${line.colour}` : ""} · ` + t("qty %(n)s", { n: line.quantity }) })),
      el("span", { text: money(line.unit_price_minor * line.quantity, bag.currency) }),
    )) : [el("li", { class: "empty", text: t("Your bag is empty.") })]));
  }
  for (const total of document.querySelectorAll("[data-bag-total]")) {
    total.textContent = money(bag.total_minor, bag.currency);
  }
}

// --- the sheet: a product's sizes and the bag, over the playing video ---------------

const sheet = $("sheet");
let sheetReturn = null;

function openSheet(productId) {
  if (!sheet) { toggleBag(true); return; }
  const card = productId ? shownCards().find((c) => c.id === Number(productId)) : null;
  $("sheet-title").textContent = card ? localName(card) : t("Your bag");
  $("sheet-product").replaceChildren(...(card ? [productCard(card, "sheet-variant")] : []));
  sheetReturn = document.activeElement;
  sheet.hidden = false;
  document.body.dataset.sheet = card ? "product" : "bag";
  (sheet.querySelector("select") || sheet.querySelector("[data-close-sheet]")).focus();
}

function closeSheet() {
  if (!sheet || sheet.hidden) return;
  sheet.hidden = true;
  delete document.body.dataset.sheet;
  if (sheetReturn && document.contains(sheetReturn)) sheetReturn.focus();
}

function toggleBag(open) {
  const drawer = document.getElementById("bag-drawer");
  drawer.classList.toggle("open", open);
  drawer.setAttribute("aria-hidden", String(!open));
  drawer.inert = !open;
  if (open) drawer.querySelector("[data-close-bag]").focus();
}

// --- chat ----------------------------------------------------------------------

function messageItem(message) {
  const item = el("li", { class: message.author_role, "data-message-id": message.id });
  if (message.kind === "system") {
    item.textContent = message.body;
    return item;
  }
  item.append(el("span", { class: "author", text: message.author }));
  if (message.kind === "product" && message.product) {
    const card = message.product;
    item.append(el("div", { class: "chat-product" },
      card.image_url ? el("img", { src: card.image_url, alt: "", width: 40, height: 50 }) : null,
      el("span", {}, el("strong", { text: localName(card) }), " ", money(card.price_minor, card.currency))));
    if (!script && !pins.some((p) => p.id === card.id)) { pins.push(card); renderPins(); }
  } else {
    item.append(el("span", { class: "body", text: message.body }));
  }
  if (message.attachment_url) {
    item.append(el("img", { class: "snapshot", src: message.attachment_url, alt: t("Picture from the host") }));
    if (message.colour) item.append(colourReport(message.colour, colourWords(root)));
  }
  return item;
}

function addMessages(list) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  for (const message of list) box.append(messageItem(message));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

async function onChat(event) {
  event.preventDefault();
  const input = $("chat-input");
  const body = input.value.trim();
  if (!body) return;
  $("chat-status").textContent = "";
  const ack = await room.sendChat(body);
  if (ack.ok) input.value = "";
  else $("chat-status").textContent = ack.message || t("Your message was not sent.");
}

// --- flash offer ---------------------------------------------------------------

function renderOffer(offer) {
  clearInterval(offerTimer);
  const banner = $("offer");
  if (!offer || Date.parse(offer.ends_at) <= Date.now()) { banner.hidden = true; return; }
  const card = pins.find((p) => p.id === offer.product_id);
  $("offer-title").textContent = card ? t("Flash offer: %(name)s", { name: localName(card) }) : t("Flash offer");
  const left = t("%(n)s left", { n: offer.remaining });
  $("offer-price").textContent = `${money(offer.price_minor, currency)} · ${left}`;
  banner.hidden = false;
  const tick = () => {
    const end = Date.parse(offer.ends_at);
    if (end <= Date.now()) { banner.hidden = true; clearInterval(offerTimer); return; }
    $("offer-countdown").textContent = t("Ends in %(time)s", { time: untilText(end) });
  };
  tick();
  offerTimer = setInterval(tick, 1000);
}

// --- the shoppable replay: chat and products in step with the recording ---------------

const replayVideo = $("replay");
let replayShown = { key: "", messages: -1 };

function replayCards() {
  const t = replayVideo ? replayVideo.currentTime : 0;
  const seen = new Map(); // the latest pin of each product up to now, most recent first
  for (const item of script.products) if (item.at <= t + 0.05) seen.set(item.card.id, item);
  return [...seen.values()].sort((a, b) => b.at - a.at).slice(0, 3).map((item) => item.card);
}

function renderReplay() {
  const t = replayVideo.currentTime;
  const key = replayCards().map((c) => c.id).join(",");
  if (key !== replayShown.key) { replayShown.key = key; renderPins(); }
  const count = script.messages.filter((m) => m.at <= t + 0.05).length;
  if (count !== replayShown.messages) {
    replayShown.messages = count;
    const box = $("messages");
    box.replaceChildren(...script.messages.slice(0, count).map(messageItem));
    box.scrollTop = box.scrollHeight;
  }
  for (const button of document.querySelectorAll("[data-seek]")) {
    const at = Number(button.dataset.seek);
    button.setAttribute("aria-current", String(at <= t + 0.05 && key.split(",")[0] === button.dataset.productId));
  }
}

function seekTo(at) {
  const start = Number(replayVideo.dataset.start || 0);
  replayVideo.currentTime = Math.max(start, at);
  replayVideo.play().catch(() => {}); // a browser may want a tap first: the controls are there
}

if (replayVideo) $("unmute").hidden = true; // the replay's own controls carry its sound
if (script && replayVideo) {
  for (const event of ["timeupdate", "seeked", "loadedmetadata"]) replayVideo.addEventListener(event, renderReplay);
  $("timeline")?.addEventListener("click", (event) => {
    const button = event.target.closest("[data-seek]");
    if (button) seekTo(Number(button.dataset.seek));
  });
}

// --- the picture: portrait fills, landscape letterboxes; captions when there are some ---

function watchShape(video) {
  if (!video) return;
  const stage = video.closest(".stage");
  const shape = () => {
    if (!video.videoWidth) return;
    stage.dataset.orientation = video.videoHeight > video.videoWidth ? "portrait" : "landscape";
  };
  video.addEventListener("loadedmetadata", shape);
  video.addEventListener("resize", shape);
}
watchShape($("player"));
watchShape(replayVideo);

// Captions: the toggle is offered only when the video has a caption track (a replay's
// uploaded captions, one <track> per language, none `default`). The track in the page's
// language is used, else the first; the viewer's choice is remembered on this device.
const captions = $("captions");
const CAPTIONS_KEY = "vitrine-captions";
const remembered = () => { try { return localStorage.getItem(CAPTIONS_KEY); } catch (err) { return null; } };
const remember = (value) => { try { localStorage.setItem(CAPTIONS_KEY, value); } catch (err) { /* private mode */ } };

function captionTrack(video) {
  const tracks = [...video.textTracks].filter((t) => t.kind === "captions" || t.kind === "subtitles");
  const lang = (document.documentElement.lang || "").toLowerCase();
  return tracks.find((t) => t.language.toLowerCase() === lang)
    || tracks.find((t) => lang && t.language.toLowerCase().split("-")[0] === lang.split("-")[0])
    || tracks[0] || null;
}

function showCaptions(video, on) {
  const chosen = captionTrack(video);
  for (const track of video.textTracks) track.mode = on && track === chosen ? "showing" : "disabled";
  captions.setAttribute("aria-pressed", String(on));
}

function offerCaptions() {
  const video = replayVideo || $("player");
  if (!captions || !video || !captionTrack(video)) return;
  captions.hidden = false;
  showCaptions(video, remembered() === "on");
  captions.onclick = () => {
    const on = captions.getAttribute("aria-pressed") !== "true";
    showCaptions(video, on);
    remember(on ? "on" : "off");
  };
}
(replayVideo || $("player"))?.textTracks?.addEventListener?.("addtrack", offerCaptions);
offerCaptions();

// --- wiring --------------------------------------------------------------------

function makeSocket() {
  if (!embedToken || !window.io) return null;
  // Inside a cross-site iframe the session cookie is not sent: the token says who we are.
  return window.io({ transports: ["websocket", "polling"], auth: { embed_token: embedToken }, autoConnect: false });
}

const room = new LiveRoom({ sessionId, socket: makeSocket() });
room.addEventListener("relay_moved", (event) => { if (viewer) viewer.moved(event.detail.relay_url); });

room.addEventListener("statechange", (event) => {
  socketState = event.detail;
  root.dataset.socket = socketState; // "live" once the room is joined
  renderState();
});
room.addEventListener("joined", (event) => {
  const { state } = event.detail;
  sessionStatus = state.status;
  // A move the page missed (it was made before this join): the room's state says it.
  if (state.show_status && state.show_status !== root.dataset.showStatus) {
    root.dataset.showStatus = state.show_status;
    if (state.show_status !== "scheduled") $("remind")?.remove();
  }
  $("viewer-count").textContent = String(state.viewers);
  $("heart-count").textContent = String(state.hearts);
  if (!script) { pins = pinsOrFeatured(state.pinned); renderPins(); }
  if (state.bag) renderBag(state.bag);
  renderOffer(state.offer);
  if (sessionStatus === "live") startVideo();
  renderCohost(state.cohost || null);
  renderState();
});
room.addEventListener("cohost", (event) => renderCohost(event.detail));
// A replay plays its chat from the script, in step with the recording, not the room's.
room.addEventListener("messages", (event) => { if (!script) addMessages(event.detail); });
room.addEventListener("message_deleted", (event) => {
  document.querySelector(`[data-message-id="${event.detail.id}"]`)?.remove();
});
room.addEventListener("hearts", (event) => { $("heart-count").textContent = String(event.detail.total); });
room.addEventListener("presence", (event) => { $("viewer-count").textContent = String(event.detail.viewers); });
room.addEventListener("pins", (event) => {
  pins = pinsOrFeatured(event.detail.pinned);
  if (!script) renderPins();
});
room.addEventListener("stock", (event) => applyStock(event.detail));
room.addEventListener("offer", (event) => renderOffer(event.detail));
room.addEventListener("bag", (event) => renderBag(event.detail));
room.addEventListener("sanction", (event) => {
  $("chat-status").textContent = event.detail.kind === "ban"
    ? t("The host has removed you from this chat.") : t("The host has muted you for a while.");
});
room.addEventListener("error", (event) => { $("chat-status").textContent = event.detail.message || ""; });
// The show moved (sessions/shows/lifecycle.py): started, ended, cancelled, its replay out.
room.addEventListener("show_state", (event) => {
  const { status } = event.detail;
  root.dataset.showStatus = status;
  if (status === "live") sessionStatus = "live";
  if (status === "ended" || status === "cancelled") sessionStatus = "ended";
  if (sessionStatus === "live") startVideo(); else stopVideo();
  if (status !== "scheduled") $("remind")?.remove(); // nothing to be reminded of any more
  renderState();
  if (status === "replay_published" && !document.getElementById("replay")) {
    const message = $("stage-message");
    message.replaceChildren(t("The replay is ready.") + " ",
      el("a", { href: window.location.pathname, text: t("Watch it") }));
    message.hidden = false;
  }
});

document.addEventListener("submit", (event) => {
  if (event.target.closest("form[data-add-to-bag]")) onAddToBag(event);
});
$("chat-form")?.addEventListener("submit", onChat);
// Product clicks for the show's analytics: opening a card's page, or its sizes once per card.
const opened = new Set();
$("pinned").addEventListener("click", (event) => {
  const card = event.target.closest?.(".product-card");
  if (card && event.target.closest("a")) room.productClick(card.dataset.productId);
});
$("pinned").addEventListener("change", (event) => {
  const card = event.target.closest?.(".product-card");
  if (!card || opened.has(card.dataset.productId)) return;
  opened.add(card.dataset.productId);
  room.productClick(card.dataset.productId);
});
$("heart").addEventListener("click", () => {
  room.react();
  const count = $("heart-count");
  count.textContent = String(Number(count.textContent) + 1);
});
$("unmute").addEventListener("click", (event) => {
  const video = $("player");
  video.muted = !video.muted;
  if ($("cohost-player")) $("cohost-player").muted = video.muted;
  event.target.textContent = video.muted ? t("Sound on") : t("Sound off");
});
for (const link of document.querySelectorAll("[data-bag-link], [data-open-bag]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    if (sheet) openSheet(null); else toggleBag(true);
  });
}
document.querySelector("[data-close-bag]")?.addEventListener("click", () => toggleBag(false));
document.querySelector("[data-close-sheet]")?.addEventListener("click", closeSheet);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") { toggleBag(false); closeSheet(); }
});
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-open-sheet]");
  if (!button) return;
  const card = button.closest(".product-card");
  openSheet(card.dataset.productId);
  if (!opened.has(card.dataset.productId)) {
    opened.add(card.dataset.productId);
    room.productClick(card.dataset.productId);
  }
});
window.addEventListener("online", renderState);
window.addEventListener("offline", renderState);

// The countdown in the stage message, until the host goes live.
setInterval(() => {
  for (const node of document.querySelectorAll("[data-countdown]")) {
    const target = Date.parse(node.dataset.countdown);
    node.textContent = target > Date.now() ? t("in %(time)s", { time: untilText(target) }) : t("any moment now");
  }
  tickSlate();
}, 1000);

// The slate's countdown: a local clock tick; going live is pushed (show_state).
function tickSlate() {
  const node = $("slate-countdown");
  if (!node || $("slate").hidden) return;
  const target = Date.parse(node.dataset.slateCountdown);
  node.textContent = target > Date.now() ? t("Starts in %(time)s", { time: untilText(target) }) : t("Starting any moment");
}
tickSlate();

// Tell an embedding page how tall we are.
if (window.parent !== window) {
  const report = () => window.parent.postMessage({ type: "vitrine:height", height: document.documentElement.scrollHeight }, "*");
  new ResizeObserver(report).observe(document.body);
}

// The phone player fills the screen under the header, whatever height the header wraps to.
const header = document.querySelector(".site-header");
if (header && root.classList.contains("player-layout")) {
  const fit = () => document.documentElement.style.setProperty("--header-h", `${header.offsetHeight}px`);
  new ResizeObserver(fit).observe(header);
  fit();
}

renderBag(bag);
renderState();
if (script) renderPins();
room.connect();
