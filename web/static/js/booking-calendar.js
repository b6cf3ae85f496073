// The month calendar and the day's times, over a page's own day list: the booking page
// (booking/book.html, pages/book.js) and the move of a booking (booking/manage.html,
// pages/manage-booking.js) draw it from the same markup (booking/_calendar.html).
//
// A page works without this file (a list of days, then the day's times). Here the month
// endpoint is fetched when the shopper acts — a filter, the zone, a month — never on a timer;
// the grid follows the ARIA grid pattern (arrow keys, Home/End, Page Up/Down) and every
// state is said in words in the live region (the page's data-words; counts by ui.js tn()).
// Names of months, weekdays and times come from Intl in the page's language, so they read
// as the server's Babel would write them.
import { calendarWeeks, shiftDay } from "./calendar-grid.js";
import { tn } from "./ui.js";

// root: the element with data-month-url (and data-month, data-zone, data-first-weekday);
// form: the form the chosen time is posted with. What a page leaves out — the filters, the
// zone select, the team, the chosen associate's card — is not drawn. The time's radio is
// named by root's data-slot-name: "slot" (associate|store|start, the booking form) or
// "starts_at" (the start only: a move keeps the associate and the store).
export function bookingCalendar(root, form) {
  const lang = document.documentElement.lang || "en";
  const words = root.querySelector("[data-words]").dataset;
  const say = (key, values = {}) =>
    Object.entries(values).reduce((text, [k, v]) => text.replaceAll(`{${k}}`, v), words[key] || "");

  const filters = root.querySelector("[data-filters]");
  const tzSelect = root.querySelector("[data-tz-select]");
  const calendar = root.querySelector("[data-calendar]");
  const grid = root.querySelector("[data-grid]");
  const weeksBody = root.querySelector("[data-weeks]");
  const status = root.querySelector("[data-status]");
  const timesBox = root.querySelector("[data-times]");
  const timesTitle = root.querySelector("[data-times-title]");
  const zoneNote = root.querySelector("[data-zone-note]");
  const chosen = root.querySelector("[data-chosen]");
  const team = root.querySelector("[data-team]");
  const firstWeekday = Number(root.dataset.firstWeekday || 0);
  const slotName = root.dataset.slotName || "slot";
  const slotValue = (slot) =>
    slotName === "slot" ? `${slot.associate_id}|${slot.store_id}|${slot.starts_at}` : slot.starts_at;

  const state = { month: root.dataset.month || "", data: null, day: null, focus: null, request: 0 };

  const el = (tag, attrs = {}, text = "") => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  };
  const zone = () => tzSelect?.value || root.dataset.zone || "UTC";
  // A local day ("2026-12-03") named in the page's language; noon keeps it on its date.
  const dayDate = (iso) => new Date(`${iso}T12:00:00Z`);
  const fullDay = (iso) => new Intl.DateTimeFormat(lang, { dateStyle: "full", timeZone: "UTC" }).format(dayDate(iso));
  const monthTitle = (iso) =>
    new Intl.DateTimeFormat(lang, { month: "long", year: "numeric", timeZone: "UTC" }).format(dayDate(iso));
  const timeText = (instant) =>
    new Intl.DateTimeFormat(lang, { timeStyle: "short", timeZone: zone() }).format(new Date(instant));
  const languageNames = (() => {
    try { return new Intl.DisplayNames([lang], { type: "language" }); } catch { return null; }
  })();
  const languageName = (code) => languageNames?.of(code) || code.toUpperCase();

  // --- the zone: the browser's own, unless the shopper chose one -------------------------------

  function detectZone() {
    if (!tzSelect || new URLSearchParams(location.search).has("tz")) return;
    const detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!detected) return;
    if (![...tzSelect.options].some((o) => o.value === detected)) {
      tzSelect.append(el("option", { value: detected }, detected.replaceAll("_", " ")));
    }
    tzSelect.value = detected;
  }

  // --- loading a month ------------------------------------------------------------------------

  async function load({ keepDay = true } = {}) {
    const ticket = ++state.request;
    // The page's own fixed choices ride on the URL (a move: its associate and store).
    const url = new URL(root.dataset.monthUrl, location.href);
    const params = url.searchParams;
    for (const field of filters?.querySelectorAll("[data-filter]") || []) {
      if (field.value.trim()) params.set(field.name, field.value.trim());
    }
    if (!tzSelect) params.set("tz", zone());
    if (state.month) params.set("month", state.month);
    calendar.setAttribute("aria-busy", "true");
    delete root.dataset.loaded; // set again once this month is drawn (tests wait for it)
    status.replaceChildren(say("loading"));
    let data;
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.message || `${response.status}`);
    } catch (err) {
      if (ticket !== state.request) return;
      calendar.removeAttribute("aria-busy");
      showError(err.message);
      root.dataset.loaded = "error";
      return;
    }
    if (ticket !== state.request) return; // a later choice already asked again
    calendar.removeAttribute("aria-busy");
    state.data = data;
    state.month = data.month;
    const days = new Map(data.days.map((d) => [d.date, d.slots]));
    state.days = days;
    if (!(keepDay && days.has(state.day))) state.day = data.days[0]?.date || null;
    drawTeam(data.associates);
    drawMonth();
    syncForm();
    if (state.day) chooseDay(state.day, { announce: true, focus: false });
    else showEmpty();
    root.dataset.loaded = data.month;
  }

  function showError(reason) {
    const retry = el("button", { type: "button", class: "secondary" }, say("retry"));
    retry.addEventListener("click", () => load());
    status.replaceChildren(say("error", { reason }), " ", retry);
  }

  function showEmpty() {
    timesBox.replaceChildren();
    timesTitle.textContent = monthTitle(`${state.month}-01`);
    if (chosen) chosen.hidden = true;
    const next = state.data.next_free_day;
    const month = monthTitle(`${state.month}-01`);
    if (!next) {
      status.replaceChildren(say("emptyNone"));
      return;
    }
    const go = el("button", { type: "button", class: "secondary" }, say("goNext", { day: fullDay(next) }));
    go.addEventListener("click", () => {
      state.month = next.slice(0, 7);
      state.day = next;
      load();
    });
    status.replaceChildren(say("emptyNext", { month, day: fullDay(next) }), " ", go);
  }

  // --- the grid --------------------------------------------------------------------------------

  function drawMonth() {
    const data = state.data;
    root.querySelector("[data-month-title]").textContent = monthTitle(`${data.month}-01`);
    root.querySelector("[data-prev]").disabled = !data.previous_month;
    root.querySelector("[data-next]").disabled = !data.next_month;
    const head = root.querySelector("[data-weekdays]");
    const weekday = new Intl.DateTimeFormat(lang, { weekday: "short", timeZone: "UTC" });
    const longWeekday = new Intl.DateTimeFormat(lang, { weekday: "long", timeZone: "UTC" });
    head.replaceChildren(
      ...Array.from({ length: 7 }, (_, n) => {
        // 2024-01-01 was a Monday.
        const sample = new Date(Date.UTC(2024, 0, 1 + ((firstWeekday + n) % 7), 12));
        const th = el("th", { scope: "col", abbr: longWeekday.format(sample) }, weekday.format(sample));
        return th;
      }),
    );
    const focusDay = state.focus && state.focus.startsWith(data.month) ? state.focus : state.day || `${data.month}-01`;
    weeksBody.replaceChildren(
      ...calendarWeeks(data.month, firstWeekday).map((week) => {
        const row = el("tr");
        for (const iso of week) {
          const cell = el("td");
          if (iso) {
            const slots = state.days.get(iso);
            const button = el("button", {
              type: "button",
              class: "day",
              "data-day": iso,
              tabindex: iso === focusDay ? "0" : "-1",
              "aria-label": slots
                ? tn("%(day)s, %(n)s free time", "%(day)s, %(n)s free times", slots.length, { day: fullDay(iso) })
                : say("dayNone", { day: fullDay(iso) }),
            }, String(Number(iso.slice(8))));
            if (slots) button.classList.add("has-times");
            else button.setAttribute("aria-disabled", "true");
            if (iso === data.today) button.setAttribute("aria-current", "date");
            cell.setAttribute("aria-selected", String(iso === state.day));
            cell.append(button);
          }
          row.append(cell);
        }
        return row;
      }),
    );
  }

  function chooseDay(iso, { announce = true, focus = false } = {}) {
    const slots = state.days.get(iso);
    if (!slots) return;
    state.day = iso;
    state.focus = iso;
    for (const cell of weeksBody.querySelectorAll("td")) {
      const button = cell.querySelector("button");
      cell.setAttribute("aria-selected", String(button?.dataset.day === iso));
    }
    drawTimes(iso, slots);
    if (announce) {
      status.replaceChildren(tn("%(day)s: %(n)s free time, in %(zone)s.", "%(day)s: %(n)s free times, in %(zone)s.",
        slots.length, { day: fullDay(iso), zone: zoneLabel() }));
    }
    if (focus) timesBox.querySelector("input")?.focus();
  }

  const zoneLabel = () => zone().replaceAll("_", " ");

  // "associate|store|start" (or the start alone): the server writes the start with
  // "+00:00", the API with "Z".
  const sameSlot = (a, b) => {
    const [x, y] = [a.split("|"), b.split("|")];
    const [p, q] = [x.pop(), y.pop()];
    return x.join("|") === y.join("|") && new Date(p).getTime() === new Date(q).getTime();
  };

  function drawTimes(iso, slots) {
    // A time the shopper already chose (perhaps in the page's own list, before this ran) stays chosen.
    const kept = form.querySelector(`input[name=${slotName}]:checked`)?.value;
    timesTitle.textContent = fullDay(iso);
    zoneNote.textContent = say("timesIn", { zone: zoneLabel() });
    const several = new Set(slots.map((s) => s.associate_id)).size > 1;
    timesBox.replaceChildren(
      ...slots.map((slot) => {
        const label = el("label", { class: "time-option" });
        const input = el("input", {
          type: "radio",
          name: slotName,
          required: "",
          value: slotValue(slot),
          "data-associate": String(slot.associate_id),
        });
        if (kept && sameSlot(input.value, kept)) input.checked = true;
        label.append(input, el("span", {}, timeText(slot.starts_at)));
        if (several) label.append(el("span", { class: "muted small" }, slot.associate_name));
        return label;
      }),
    );
    if (chosen) chosen.hidden = true;
    timesBox.querySelector("input:checked")?.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function moveFocus(iso) {
    const data = state.data;
    const target = weeksBody.querySelector(`[data-day="${iso}"]`);
    if (target) {
      for (const b of weeksBody.querySelectorAll("button")) b.tabIndex = -1;
      target.tabIndex = 0;
      target.focus();
      state.focus = iso;
      return;
    }
    // Past the month's edge: the next or previous month, if offered.
    const later = iso > `${data.month}-31`;
    const month = later ? data.next_month : data.previous_month;
    if (!month) return;
    state.month = month;
    state.focus = iso;
    load().then(() => weeksBody.querySelector(`[data-day="${iso}"]`)?.focus());
  }

  grid.addEventListener("keydown", (event) => {
    const button = event.target.closest("button[data-day]");
    if (!button) return;
    const iso = button.dataset.day;
    const weekdayIndex = (dayDate(iso).getUTCDay() + 6 - firstWeekday) % 7; // 0 = first column
    const moves = {
      ArrowLeft: -1,
      ArrowRight: 1,
      ArrowUp: -7,
      ArrowDown: 7,
      Home: -weekdayIndex,
      End: 6 - weekdayIndex,
    };
    if (event.key in moves) {
      event.preventDefault();
      moveFocus(shiftDay(iso, moves[event.key]));
    } else if (event.key === "PageUp" || event.key === "PageDown") {
      event.preventDefault();
      const month = event.key === "PageUp" ? state.data.previous_month : state.data.next_month;
      if (month) {
        state.month = month;
        state.focus = `${month}-01`;
        load({ keepDay: false }).then(() => weeksBody.querySelector("button[tabindex='0']")?.focus());
      }
    }
  });

  grid.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-day]");
    if (!button || button.getAttribute("aria-disabled") === "true") return;
    for (const b of weeksBody.querySelectorAll("button")) b.tabIndex = -1;
    button.tabIndex = 0;
    chooseDay(button.dataset.day, { announce: true });
  });

  // --- who: the team the filters leave, and the associate of the chosen time ----------------

  function avatar(person) {
    if (person.photo_url) return el("img", { class: "avatar", src: person.photo_url, alt: "" });
    return el("span", { class: "avatar avatar-initials", "aria-hidden": "true" }, person.name.slice(0, 1).toUpperCase());
  }

  function card(person, heading = person.name) {
    const box = el("div");
    box.append(el("strong", {}, heading));
    const spoken = person.languages.map(languageName).join(", ");
    if (spoken) box.append(el("span", { class: "muted" }, spoken));
    if (person.specialities) box.append(el("span", { class: "muted" }, person.specialities));
    return [avatar(person), box];
  }

  function drawTeam(people) {
    state.people = new Map(people.map((p) => [String(p.id), p]));
    if (!team) return;
    if (!people.length) {
      team.replaceChildren(el("li", { class: "muted" }, say("nobody")));
      return;
    }
    team.replaceChildren(
      ...people.map((p) => {
        const li = el("li", { class: "associate-card" });
        li.append(...card(p));
        return li;
      }),
    );
  }

  timesBox.addEventListener("change", (event) => {
    const person = state.people?.get(event.target.dataset.associate);
    if (!person || !chosen) return;
    chosen.replaceChildren(...card(person, say("with", { name: person.name })));
    chosen.hidden = false;
  });

  // --- the form the booking posts --------------------------------------------------------------

  function syncForm() {
    for (const input of form.querySelectorAll("[data-tz]")) input.value = zone();
    const monthField = form.querySelector("[data-month-field]");
    if (monthField) monthField.value = state.month;
    const language = filters?.querySelector("[name=language]")?.value;
    if (language) form.querySelector("[data-language-field]").value = language;
  }

  // --- start -----------------------------------------------------------------------------------

  for (const field of filters?.querySelectorAll("[data-filter]") || []) {
    field.addEventListener("change", () => load());
  }
  filters?.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  root.querySelector("[data-prev]").addEventListener("click", () => {
    if (!state.data?.previous_month) return;
    state.month = state.data.previous_month;
    load({ keepDay: false });
  });
  root.querySelector("[data-next]").addEventListener("click", () => {
    if (!state.data?.next_month) return;
    state.month = state.data.next_month;
    load({ keepDay: false });
  });

  for (const node of root.querySelectorAll("[data-fallback], [data-no-js]")) node.hidden = true;
  calendar.hidden = false;
  root.dataset.enhanced = "";
  detectZone();
  load();
}
