// A shopper's booking (booking/manage.html): its time in the reader's zone, and the move to
// another time through the booking page's calendar (booking-calendar.js), posted as
// `starts_at` with the same associate and store.
import { bookingCalendar } from "../booking-calendar.js";
import { localTimes } from "../consult.js";

localTimes(document);
const move = document.getElementById("move");
if (move) bookingCalendar(move, document.getElementById("move-form"));
