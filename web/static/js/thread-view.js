// What the shopper's chat and the console's inbox share: drawing a thread's messages and
// the Socket.IO connection that pushes them. Text is data: textContent, never innerHTML.

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
  }

  clear() {
    this.list.replaceChildren();
    this.seen.clear();
    this.lastId = 0;
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
    who.textContent = message.kind === "automatic" ? "Automatic answer" : message.author;
    item.append(who);
    if (message.context) {  // where it was asked from: "Asked during the show …"
      const context = document.createElement("p");
      context.className = "thread-context hint";
      context.textContent = message.context;
      item.append(context);
    }
    if (message.body) {
      const body = document.createElement("p");
      body.textContent = message.body;
      item.append(body);
    }
    if (message.kind === "product" && message.product_id) {
      const card = document.createElement("p");
      card.className = "thread-product";
      card.textContent = `Product #${message.product_id}`;
      item.append(card);
    }
    if (message.attachment_url) {
      const img = document.createElement("img");
      img.src = message.attachment_url;
      img.alt = "Picture sent in the conversation";
      item.append(img);
    }
    const later = [...this.list.children].find((li) => Number(li.dataset.messageId) > message.id);
    this.list.insertBefore(item, later || null);
    item.scrollIntoView({ block: "nearest" });
    return true;
  }
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
