// The associate's day (consult/today.html).
import { consoleToday } from "../consult.js";

consoleToday(document.getElementById("today"));
