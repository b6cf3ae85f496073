// The console's sign of life on every console page but the inbox (which sends its own):
// a socket whose heartbeat, sent while the associate uses the page, keeps them present
// for routing (auto-away: an idle or closed console is offered nobody).

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

loadSocketIO().then((io) => {
  const socket = io({ transports: ["websocket", "polling"] });
  let lastActive = Date.now();
  const beat = () => socket.emit("console_heartbeat", {});
  socket.on("connect", beat);
  for (const name of ["pointerdown", "keydown", "focus"]) {
    window.addEventListener(name, () => { lastActive = Date.now(); });
  }
  setInterval(() => { if (Date.now() - lastActive < ACTIVE_MS) beat(); }, HEARTBEAT_MS);
}).catch(() => { /* no socket: the status set on the page still counts until it goes stale */ });
