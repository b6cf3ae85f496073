// Every console page: an associate invited to co-host a show is told at once, wherever
// they are in the console ("cohost_invitation", pushed to their associate room), with a
// link to their co-host page; the notice leaves when the invitation is withdrawn or they
// are removed ("cohost_invitation_withdrawn"). The page lists the standing ones first.
//
// The socket is the page's own: the inbox's (it sends its own heartbeat), else the
// console's sign of life (console-presence.js). No second connection.
import { t } from "./ui.js";

const box = document.getElementById("cohost-invites");

function remove(cohostId) {
  for (const node of box.querySelectorAll(".cohost-invite")) {
    if (Number(node.dataset.cohostId) === cohostId) node.remove();
  }
}

function add(invitation) {
  remove(invitation.cohost_id); // told twice (a reconnect): one notice
  const node = document.createElement("p");
  node.className = "cohost-invite";
  node.dataset.cohostId = String(invitation.cohost_id);
  const text = document.createElement("span");
  text.textContent = t("You are invited to co-host “%(title)s”.", { title: invitation.title });
  const link = document.createElement("a");
  link.className = "button primary";
  link.href = invitation.url;
  link.textContent = t("Join as co-host");
  node.append(text, " ", link);
  box.append(node);
}

async function socketOfPage() {
  if (box.dataset.socket === "inbox") {
    const { connectThreads } = await import("./thread-view.js");
    return connectThreads({});
  }
  const { consoleSocket } = await import("./console-presence.js");
  return consoleSocket;
}

if (box) {
  socketOfPage().then((socket) => {
    if (!socket) return;
    socket.on("cohost_invitation", add);
    socket.on("cohost_invitation_withdrawn", (data) => remove(data.cohost_id));
    // Connected (so in the associate's room): what a test waits for before inviting.
    const listening = () => { box.dataset.listening = "1"; };
    socket.on("connect", listening);
    if (socket.connected) listening();
  });
}
