// Hours (console/hours.html): the exceptions to an associate's week, read and changed
// through the API (/api/associates/<id>/exceptions: the associate, or their brand admin).
// A day off has no times; other hours on a date replace that day's weekly hours.

import { api, el, readJson } from "./ui.js";
import { pageLang, st, tn } from "./strings.js";

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

  const dayText = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString(pageLang(), { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  // A store's wall time ("09:30") as the reader's locale writes it; no zone conversion.
  const hm = (wall) => (wall ? new Date(`2000-01-01T${wall.slice(0, 5)}:00`).toLocaleTimeString(pageLang(), { hour: "numeric", minute: "2-digit" }) : "");

  function item(x) {
    const what = x.start_time ? `${hm(x.start_time)}–${hm(x.end_time)}` : st("dayOff");
    const where = x.store_id ? ` ${st("atStore", { store: stores[String(x.store_id)] || st("aStore") })}` : "";
    const li = el("li", { class: "exception", "data-exception-id": x.id });
    li.append(el("strong", { text: dayText(x.day) }), ` · ${what}${where}`);
    if (x.reason) li.append(el("span", { class: "muted", text: ` (${x.reason})` }));
    const remove = el("button", { type: "button", class: "small", text: st("remove") });
    remove.append(el("span", { class: "visually-hidden", text: ` ${st("theExceptionOf", { day: dayText(x.day) })}` }));
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      try {
        await api(`${url}/${x.id}`, { method: "DELETE" });
        await load(st("removed", { day: dayText(x.day) }));
      } catch (err) {
        remove.disabled = false;
        state.textContent = st("notRemoved", { error: err.message });
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
      state.textContent = st("loadFailed", { error: err.message });
      return;
    }
    const today = new Date().toISOString().slice(0, 10);
    const ahead = rows.filter((x) => x.day >= today);
    list.replaceChildren(...ahead.map(item));
    const past = rows.length - ahead.length;
    state.textContent = said || (ahead.length
      ? (past ? tn("comingUpAndPast", ahead.length, { past }) : tn("comingUp", ahead.length))
      : st("noneComingUp"));
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
    if (!day) { error.textContent = st("chooseDate"); form.elements.day.focus(); return; }
    const body = { day, reason: (data.get("reason") || "").trim() };
    if (data.get("kind") === "hours") {
      const [from, to] = [data.get("start_time"), data.get("end_time")];
      if (!from || !to) { error.textContent = st("giveTimes"); return; }
      if (from >= to) { error.textContent = st("startBeforeEnd"); return; }
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
      await load(made.start_time
        ? st("addedHours", { day: dayText(made.day), from: hm(made.start_time), to: hm(made.end_time) })
        : st("addedDayOff", { day: dayText(made.day) }));
    } catch (err) {
      error.textContent = st("notAdded", { error: err.message });
    } finally {
      button.disabled = false;
    }
  });

  load();
}
