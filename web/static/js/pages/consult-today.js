// The associate's day (consult/today.html): pushed over the console's socket.
import { consoleToday } from "../consult.js";
import { consoleSocket } from "../console-presence.js";

consoleToday(document.getElementById("today"), consoleSocket);
