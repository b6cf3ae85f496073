// Book a consultation (booking/book.html): the month calendar (booking-calendar.js) over the
// page's own day list, posting the booking form.
import { bookingCalendar } from "../booking-calendar.js";

bookingCalendar(document.getElementById("booking"), document.getElementById("book-form"));
