// Hours (console/hours.html): the exceptions to an associate's week, read and changed
// through the API (/api/associates/<id>/exceptions: the associate, or their brand admin).
// A day off has no times; other hours on a date replace that day's weekly hours.

import { api, el, readJson } from "./ui.js";

const root = document.querySelector("[data-hours]");
if (root) start(root);

function start(root) {
  const me = Number(root.dataset.associateId);
  const url = `/api/associates/${me}/exceptions`;
  const stores = readJson("hours-stores", {});
  const list = root.querySelector("[data-exceptions]");
  const state = root.querySelector("[data-exceptions-state]");
  const form = root.querySelector("[data-exception-form]");
  const times = form.querySelector("[data-times]");
  const error = form.querySelector("[data-exception-error]");

  const dayText = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  const hm = (t) => (t ? t.slice(0, 5) : "");

  function item(x) {
    const what = x.start_time ? `${hm(x.start_time)}–${hm(x.end_time)}` : "Day off";
    const where = x.store_id ? ` at ${stores[String(x.store_id)] || "a store"}` : "";
    const li = el("li", { class: "exception", "data-exception-id": x.id });
    li.append(el("strong", { text: dayText(x.day) }), ` · ${what}${where}`);
    if (x.reason) li.append(el("span", { class: "muted", text: ` (${x.reason})` }));
    const remove = el("button", { type: "button", class: "small", text: "Remove" });
    remove.append(el("span", { class: "visually-hidden", text: ` the exception of ${dayText(x.day)}` }));
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      try {
        await api(`${url}/${x.id}`, { method: "DELETE" });
        await load(`Removed: ${dayText(x.day)} follows the weekly hours again.`);
      } catch (err) {
        remove.disabled = false;
        state.textContent = `Not removed: ${err.message}`;
      }
    });
    li.append(" ", remove);
    return li;
  }

  async function load(said) {
    let rows;
    try {
      rows = await api(url);
    } catch (err) {
      state.textContent = `We could not load the exceptions: ${err.message}`;
      return;
    }
    const today = new Date().toISOString().slice(0, 10);
    const ahead = rows.filter((x) => x.day >= today);
    list.replaceChildren(...ahead.map(item));
    const past = rows.length - ahead.length;
    state.textContent = said || (ahead.length
      ? `${ahead.length} coming up${past ? ` (and ${past} past, not shown)` : ""}.`
      : "No exceptions coming up: the weekly hours apply every week.");
    root.dataset.loaded = "true";
  }

  for (const radio of form.querySelectorAll("[data-kind]")) {
    radio.addEventListener("change", () => { times.hidden = form.elements.kind.value !== "hours"; });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = new FormData(form);
    const day = data.get("day");
    if (!day) { error.textContent = "Choose the date."; form.elements.day.focus(); return; }
    const body = { day, reason: (data.get("reason") || "").trim() };
    if (data.get("kind") === "hours") {
      const [from, to] = [data.get("start_time"), data.get("end_time")];
      if (!from || !to) { error.textContent = "Give the time the day starts and ends, or choose Day off."; return; }
      if (from >= to) { error.textContent = "The start must come before the end."; return; }
      body.start_time = from;
      body.end_time = to;
    }
    if (data.get("store_id")) body.store_id = Number(data.get("store_id"));
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const made = await api(url, { method: "POST", body });
      form.reset();
      times.hidden = true;
      await load(`Added: ${dayText(made.day)}, ${made.start_time ? `${hm(made.start_time)}–${hm(made.end_time)}` : "day off"}.`);
    } catch (err) {
      error.textContent = `Not added: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });

  load();
}
