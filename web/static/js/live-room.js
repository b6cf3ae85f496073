// LiveRoom: one live session's chat, pins, stock, offers and bag over Socket.IO.
//
//   import { LiveRoom } from "/static/js/live-room.js";
//   const room = new LiveRoom({ sessionId: 12 });
//   room.addEventListener("messages", (e) => render(e.detail));   // [Message]
//   room.addEventListener("statechange", (e) => badge(e.detail)); // "connecting" | "live" | ...
//   await room.connect();
//
// Events are the server's (messages, message_deleted, hearts, presence, participants, pins,
// stock, offer, bag, bag_event, session_state, show_state, sanction, consultation_transferred,
// shopper_waiting, error) plus "joined" (the join ack)
// and "statechange". After a reconnect the room rejoins with the last message id it saw, so
// the server sends exactly what was missed; ids already seen are dropped, never shown twice.
// Whatever is pushed while a join waits for its answer is held until the answer is in:
// messages merge with its history (once each, in order), other events are replayed over
// its state, so a push that overtook the answer is neither lost nor undone by it.
// Text is data: render it with textContent, never innerHTML.
import { t } from "./ui.js";

const SERVER_EVENTS = [
  "messages", "message_deleted", "hearts", "presence", "participants", "pins", "stock",
  "offer", "bag", "bag_event", "live_figures", "session_state", "show_state", "sanction", "error",
  "consultation_transferred", "shopper_waiting", "consent",
  "poll", "question", "question_pinned", // a show's polls and questions (show-poll.js, show-questions.js)
  "cohost", // a show's co-host joined, left, was muted or removed (cohost.js, show.js, console-host.js)
  "relay_moved", // the room's relay died: its media is on another now (media.js moved())
];
const ACK_TIMEOUT_MS = 10000;

function loadSocketIO() {
  if (window.io) return Promise.resolve(window.io);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/vendor/socket.io.min.js";
    script.onload = () => resolve(window.io);
    script.onerror = () => reject(new Error(t("Could not load the chat client.")));
    document.head.appendChild(script);
  });
}

function randomId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return String(Date.now()) + Math.random().toString(16).slice(2);
}

// Modules that add to a page (a show's polls and questions) find its room here, whichever
// script made it and whenever: onRoom(callback) calls back with every LiveRoom of the page.
const rooms = [];
const roomWatchers = [];
export function onRoom(callback) {
  for (const room of rooms) callback(room);
  roomWatchers.push(callback);
}

export class LiveRoom extends EventTarget {
  constructor({ sessionId, socket = null, url = undefined } = {}) {
    super();
    this.sessionId = Number(sessionId);
    this.socket = socket;
    this.url = url;
    this.state = "offline";
    this.role = null;
    this.muted = false;
    this.lastId = null;
    this.seen = new Set();
    this.roomState = null;
    this._joined = false;
    this._held = null; // [[name, data]] pushed while a join awaits its answer
    rooms.push(this);
    for (const watcher of roomWatchers) watcher(this);
  }

  // An event of a module's own (poll_vote, question_ask...), acked as every other.
  request(event, extra = {}) { return this._send(event, extra); }

  async connect() {
    this._setState("connecting");
    // A GET on the session makes sure this browser has its guest cookie before the
    // socket opens, so the socket is the same shopper as the pages (bag, chat name).
    // Inside a cross-site embed there is no cookie: the embed's token says who we are.
    const headers = { Accept: "application/json" };
    const auth = this.socket && this.socket.auth;
    if (auth && auth.embed_token) headers["X-Vitrine-Embed"] = auth.embed_token;
    try {
      const response = await fetch(`/api/live-sessions/${this.sessionId}`, {
        credentials: "same-origin", headers,
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        this._emit("error", { error: body.error || "unavailable",
          message: body.message || t("This session is not available.") });
        this._setState("offline");
        return;
      }
    } catch (err) {
      // Offline at first load: Socket.IO below keeps retrying and says so.
    }
    if (!this.socket) {
      const io = await loadSocketIO();
      this.socket = io(this.url, { transports: ["websocket", "polling"], withCredentials: true });
    }
    for (const name of SERVER_EVENTS) {
      this.socket.on(name, (data) => this._onServer(name, data));
    }
    this.socket.on("connect", () => this._join());
    this.socket.on("disconnect", () => {
      this._joined = false;
      this._held = null; // the next join's answer has all of it
      this._setState("reconnecting");
    });
    this.socket.io.on("reconnect_attempt", () => this._setState("reconnecting"));
    this.socket.io.on("reconnect_failed", () => this._setState("offline"));
    if (this.socket.connected) this._join(); else this.socket.connect();
  }

  disconnect() {
    if (this.socket) {
      this.socket.emit("leave", { session_id: this.sessionId });
      this.socket.disconnect();
    }
    this._setState("offline");
  }

  async _join() {
    const payload = { session_id: this.sessionId };
    if (this.lastId !== null) payload.last_id = this.lastId;
    const held = [];
    this._held = held;
    const ack = await this._request("join", payload);
    if (this._held === held) this._held = null; // (a later join may hold its own)
    if (!ack.ok && ack.retry_after && this.socket.connected) {
      // The server is overloaded or its database restarting (a join storm at a show's
      // start): try again after what it asked, spread out so the retries are no new storm.
      this._setState("reconnecting");
      const wait = ack.retry_after * 1000 * (1 + Math.random());
      setTimeout(() => { if (!this._joined && this.socket.connected) this._join(); }, wait);
      return;
    }
    if (!ack.ok) {
      this._emit("error", ack);
      this._setState("offline");
      return;
    }
    this._joined = true;
    this.role = ack.role;
    this.muted = ack.muted;
    this.roomState = ack.state;
    this._emit("joined", ack);
    // The server enters the room before it reads history and state, so a change made in
    // between comes both ways, and its push may arrive first. Messages merge by id; the
    // other events are replayed in the order they came: the last word wins, as on the server.
    const pushed = held.filter(([name]) => name === "messages").flatMap(([, list]) => list);
    this._receiveMessages([...(ack.history || []), ...pushed].sort((a, b) => a.id - b.id));
    for (const [name, data] of held) if (name !== "messages") this._apply(name, data);
    this._setState("live");
  }

  _onServer(name, data) {
    if (this._held) this._held.push([name, data]); // ahead of the join's answer
    else if (name === "messages") this._receiveMessages(data);
    else this._apply(name, data);
  }

  _apply(name, data) {
    if (name === "sanction") this.muted = data.kind === "mute" || data.kind === "ban";
    if (name === "pins" && this.roomState) this.roomState.pinned = data.pinned;
    if (name === "offer" && this.roomState) this.roomState.offer = data;
    if (name === "bag" && this.roomState) this.roomState.bag = data;
    this._emit(name, data);
  }

  _receiveMessages(list) {
    const fresh = [];
    for (const message of list) {
      if (this.seen.has(message.id)) continue;
      this.seen.add(message.id);
      if (this.lastId === null || message.id > this.lastId) this.lastId = message.id;
      fresh.push(message);
    }
    if (fresh.length) this._emit("messages", fresh);
  }

  _request(event, payload) {
    return new Promise((resolve) => {
      if (!this.socket || !this.socket.connected) {
        resolve({ ok: false, error: "offline", message: t("You are offline; reconnecting…") });
        return;
      }
      this.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => {
        if (err) resolve({ ok: false, error: "timeout", message: t("No answer from the server; try again.") });
        else resolve(ack || { ok: true });
      });
    });
  }

  _send(event, extra = {}) {
    return this._request(event, { session_id: this.sessionId, ...extra });
  }

  async sendChat(body) {
    const ack = await this._send("chat", { body, client_id: randomId() });
    if (ack.ok && ack.message) this._receiveMessages([ack.message]);
    return ack;
  }

  react() {
    if (this.socket && this.socket.connected) {
      this.socket.emit("react", { session_id: this.sessionId });
    }
  }

  // A viewer opened a product card (its page, or its sizes): counted in the show's analytics.
  productClick(productId) { return this._send("product_click", { product_id: Number(productId) }); }

  addToBag(variantId, quantity = 1) {
    return this._send("add_to_bag", { variant_id: Number(variantId), quantity: Number(quantity) });
  }

  pin(productId) { return this._send("pin", { product_id: Number(productId) }); }
  unpin(productId) { return this._send("unpin", { product_id: Number(productId) }); }
  // Mark a pinned product "showing now"; null clears the mark.
  showNow(productId) {
    return this._send("show_now", { product_id: productId === null ? null : Number(productId) });
  }
  pushProduct(productId) { return this._send("push_product", { product_id: Number(productId) }); }
  deleteMessage(id) { return this._send("delete_message", { message_id: Number(id) }); }
  mute(shopperId, minutes) {
    const extra = { shopper_id: Number(shopperId) };
    if (minutes) extra.minutes = Number(minutes);
    return this._send("mute", extra);
  }
  unmute(shopperId) { return this._send("unmute", { shopper_id: Number(shopperId) }); }
  ban(shopperId) { return this._send("ban", { shopper_id: Number(shopperId) }); }
  startOffer({ productId, priceMinor, quantity, seconds }) {
    return this._send("start_offer", {
      product_id: Number(productId), price_minor: Number(priceMinor),
      quantity: Number(quantity), seconds: Number(seconds),
    });
  }

  _setState(state) {
    if (state === this.state) return;
    this.state = state;
    this._emit("statechange", state);
  }

  _emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}

// "2 left", "Sold out": the words a carousel shows for a stock count.
export function stockLabel(stock) {
  if (stock <= 0) return t("Sold out");
  if (stock <= 5) return t("%(n)s left", { n: stock });
  return t("In stock");
}
