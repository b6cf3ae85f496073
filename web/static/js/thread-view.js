// What the shopper's chat and the console's inbox share: drawing a thread's messages
// (product cards too), the other side's read marker ("Seen") and the Socket.IO connection
// that pushes them. Text is data: textContent, never innerHTML.

import { api, el, localName, money, t } from "./ui.js";
import { colourReport, colourWords } from "./colour.js";

export const THREAD_EVENTS = [
  "thread_message", "thread_changed", "thread_typing", "thread_read",
  "thread_offer", "thread_offer_withdrawn",
];

export function randomId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return String(Date.now()) + Math.random().toString(16).slice(2);
}

// A list of messages that draws each one once, in id order, whether it came in the
// answer to a request or pushed (a push may overtake the answer, or repeat it).
export class MessageLog {
  constructor(list, { ownSide }) {
    this.list = list;
    this.ownSide = ownSide;
    this.seen = new Set();
    this.lastId = 0;
    this.readId = 0;  // the other side's read marker
  }

  clear() {
    this.list.replaceChildren();
    this.seen.clear();
    this.lastId = 0;
    this.readId = 0;
  }

  // "Seen" under one's own last message the other side has read (markers only move on).
  showSeen(readId) {
    this.readId = Math.max(this.readId, Number(readId) || 0);
    const own = [...this.list.querySelectorAll(".thread-message.own")]
      .filter((li) => Number(li.dataset.messageId) <= this.readId);
    const target = own[own.length - 1];
    const mark = this.list.querySelector("[data-thread-seen]");
    if (mark && mark.parentElement === target) return;
    if (mark) mark.remove();
    if (target) target.append(el("p", { class: "thread-seen", "data-thread-seen": true, text: t("Seen") }));
  }

  add(message) {
    if (this.seen.has(message.id)) return false;
    this.seen.add(message.id);
    this.lastId = Math.max(this.lastId, message.id);
    const item = document.createElement("li");
    item.className = `thread-message from-${message.side} kind-${message.kind}`;
    if (message.side === this.ownSide) item.classList.add("own");
    item.dataset.messageId = String(message.id);
    const who = document.createElement("span");
    who.className = "thread-author";
    who.textContent = message.kind === "automatic" ? t("Automatic answer") : message.author;
    item.append(who);
    if (message.context) {  // where it was asked from: "Asked during the show …"
      const context = document.createElement("p");
      context.className = "thread-context hint";
      context.textContent = message.context;
      item.append(context);
    }
    if (message.body) {  // a system note comes written in this reader's language
      const body = document.createElement("p");
      body.textContent = message.body;
      item.append(body);
    }
    if (message.kind === "product" && message.product_id) {
      item.append(productCard(message.product_id));
    } else if (message.product_id && message.side === "shopper") {
      item.append(askedAbout(message.product_id));
    }
    if (message.attachment_url) {
      const img = document.createElement("img");
      img.src = message.attachment_url;
      img.alt = t("Picture sent in the conversation");
      item.append(img);
      // A corrected snapshot kept from a consultation: its figures, as shown in the room.
      if (message.colour) {
        const words = colourWords(this.list.closest("[data-colour-words]") || document.body);
        item.append(colourReport(message.colour, words));
      }
    }
    const later = [...this.list.children].find((li) => Number(li.dataset.messageId) > message.id);
    this.list.insertBefore(item, later || null);
    item.scrollIntoView({ block: "nearest" });
    // Who answers has read what came before (the server moves their marker so, too).
    if (message.side !== this.ownSide && message.side !== "system") this.showSeen(message.id);
    else if (this.readId && message.side === this.ownSide) this.showSeen(this.readId);
    return true;
  }
}

// --- product cards ------------------------------------------------------------------------

const cards = new Map();  // product id -> the card's promise, asked once per page

export function fetchCard(productId) {
  if (!cards.has(productId)) {
    cards.set(productId, api(`/api/products/${productId}/card`).catch(() => null));
  }
  return cards.get(productId);
}

const STOCK_TEXT = { in: () => t("In stock"), low: (n) => t("Only %(n)s left", { n }), out: () => t("Sold out") };

// In an embed the product page opens beside the brand's site, not inside its frame.
const linkTarget = () => (window.top !== window.self ? "_blank" : null);

function productLink(card) {
  return el("a", { href: card.url, target: linkTarget(), rel: linkTarget() ? "noopener" : null, text: card.name });
}

// Other modules add their controls to every card drawn (shared-bag.js: "Add to bag").
const cardHooks = [];
const drawn = [];
export function onProductCard(hook) {
  cardHooks.push(hook);
  for (const [box, card] of drawn) if (box.isConnected) hook(box, card);
}

// Photo, name (a link to its page), price, stock: filled in when the card arrives.
export function productCard(productId) {
  const box = el("article", { class: "product-card thread-card", "data-product-card": productId },
    el("p", { class: "hint", text: t("A product") }));
  fetchCard(productId).then((card) => {
    if (!card) { box.replaceChildren(el("p", { class: "hint", text: t("This product is no longer available.") })); return; }
    box.replaceChildren(
      card.image_url ? el("img", { src: card.image_url, alt: localName(card) }) : el("div", { class: "ph" }),
      el("div", {},
        el("p", { class: "thread-card-name" }, productLink(card)),
        el("p", { class: "price", text: money(card.price_minor, card.currency) }),
        el("p", { class: `stock ${card.stock_state}`, "data-stock": card.stock_state, text: STOCK_TEXT[card.stock_state](card.stock) })));
    drawn.push([box, card]);
    for (const hook of cardHooks) hook(box, card);
  });
  return box;
}

// The product page a shopper asked from, under their question.
function askedAbout(productId) {
  const line = el("p", { class: "thread-about hint" });
  fetchCard(productId).then((card) => { if (card) line.append(t("Asked about") + " ", productLink(card)); });
  return line;
}

// One socket for the page, shared by the modules that call this (the inbox and its video
// requests, the shopper's chat and its "Show me on camera"); each hands its events to `on`
// (name -> handler; `connect` gets the socket). The server puts the socket in the shopper's,
// associate's and brand's rooms when it connects. Inside a cross-site embed there is no
// cookie: the first call passes `auth: { embed_token }`.
let shared = null;

export function connectThreads(on, { auth } = {}) {
  if (!window.io) return null;
  if (!shared) shared = window.io({ transports: ["websocket", "polling"], ...(auth ? { auth } : {}) });
  const socket = shared;
  for (const [name, handler] of Object.entries(on)) {
    if (name === "connect") {
      socket.on("connect", () => handler(socket));
      if (socket.connected) handler(socket);
    } else {
      socket.on(name, (data) => handler(data));
    }
  }
  return socket;
}

// Tell the other side one is typing, at most every few seconds.
export function typingNotifier(socket, threadId) {
  let last = 0;
  return () => {
    const now = Date.now();
    if (!socket || !threadId() || now - last < 3000) return;
    last = now;
    socket.emit("thread_typing", { thread_id: threadId() });
  };
}
