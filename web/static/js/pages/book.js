// Book a consultation: slots follow the filters (booking/book.html).
import { renderSlots } from "../consult.js";

const form = document.getElementById("book-form");
const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
form.querySelector("[data-tz]").value = tz;
document.querySelector("[data-tz-label]").textContent = tz;
const load = () => {
  const params = new URLSearchParams({ days: "14" });
  for (const el of form.querySelectorAll("[data-filter]")) {
    if (el.value.trim()) params.set(el.dataset.filter, el.value.trim());
  }
  renderSlots({
    url: `${form.dataset.availabilityUrl}?${params}`,
    box: form.querySelector("[data-slots]"),
    status: form.querySelector("[data-slots-status]"),
    name: "slot",
    value: (s) => `${s.associate_id}|${s.store_id}|${s.starts_at}`,
    label: (s) => ` with ${s.associate_name}`,
  });
};
for (const el of form.querySelectorAll("[data-filter]")) el.addEventListener("change", load);
load();
