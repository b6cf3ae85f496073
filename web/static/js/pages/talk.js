// "Talk to us now" (booking/talk.html).
import { talkNow, localTimes } from "../consult.js";

localTimes(document);
talkNow(document.getElementById("talk"));
