// The console's sign of life on every console page but the inbox (which sends its own):
// a socket whose heartbeat, sent while the associate uses the page, keeps them present
// for routing (auto-away: an idle or closed console is offered nobody).
//
// The same socket carries what is pushed to this person (their associate room, their
// brand's staff room): a page listens on it with
//   import { consoleSocket } from "./console-presence.js";
//   consoleSocket.then((socket) => socket && socket.on("message_left", refresh));
// (one module, one socket, however many modules of the page import it).

const HEARTBEAT_MS = 30000;
const ACTIVE_MS = 2 * 60000;

function loadSocketIO() {
  if (window.io) return Promise.resolve(window.io);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/vendor/socket.io.min.js";
    script.onload = () => resolve(window.io);
    script.onerror = reject;
    document.head.appendChild(script);
  });
}

export const consoleSocket = loadSocketIO().then((io) => {
  const socket = io({ transports: ["websocket", "polling"] });
  let lastActive = Date.now();
  const beat = () => socket.emit("console_heartbeat", {});
  socket.on("connect", beat);
  for (const name of ["pointerdown", "keydown", "focus"]) {
    window.addEventListener(name, () => { lastActive = Date.now(); });
  }
  setInterval(() => { if (Date.now() - lastActive < ACTIVE_MS) beat(); }, HEARTBEAT_MS);
  return socket;
}).catch(() => null); // no socket: the status set on the page still counts until it goes stale
