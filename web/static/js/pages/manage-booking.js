// A shopper's booking: move it to another slot (booking/manage.html).
import { renderSlots, localTimes } from "../consult.js";

localTimes(document);
const form = document.getElementById("move-form");
if (form) {
  renderSlots({
    url: form.dataset.availabilityUrl,
    box: form.querySelector("[data-slots]"),
    status: form.querySelector("[data-slots-status]"),
    name: "starts_at",
    value: (s) => s.starts_at,
    label: () => "",
  });
}
