// The consultation room page (consult/room.html). A file, not an inline script: the CSP
// allows scripts from this origin only.
import { consultRoom } from "../consult.js";

consultRoom(document.getElementById("consult-room"));
