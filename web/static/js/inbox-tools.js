// The associate's tools in an open conversation of the inbox: saved replies (a keyboard
// picker that puts the filled text into the composer, and saving one's own), product
// search and cards, transfer to a colleague or a store, and the shopper's history.
// It follows the inbox through the DOM events console-inbox.js sends on its root
// ("inbox:thread", "inbox:push") and hands what it sent back to it ("inbox:sent").
// Nothing polls: lists are asked for when a panel opens, and again when a pushed thread
// event says they moved.

import { api, el, money, stockText } from "./ui.js";
import { randomId } from "./thread-view.js";
import { day, st, tn, when } from "./strings.js";

const root = document.querySelector("[data-inbox]");
if (root) start(root);


function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function start(root) {
  const $ = (sel) => root.querySelector(sel);
  const tools = $("[data-inbox-tools]");
  const input = $("[data-thread-body]");
  const brandId = Number(root.dataset.brandId);
  let thread = null;
  let mine = false;

  // --- panels: one open at a time, each behind its button --------------------------------

  const buttons = [...tools.querySelectorAll("[data-tool]")];
  const panel = (name) => tools.querySelector(`[data-tool-panel="${name}"]`);
  const isOpen = (name) => !panel(name).hidden;
  const loaders = {};

  const closeAll = () => {
    for (const b of buttons) {
      b.setAttribute("aria-expanded", "false");
      panel(b.dataset.tool).hidden = true;
    }
  };
  const openPanel = (name) => {
    closeAll();
    tools.querySelector(`[data-tool="${name}"]`).setAttribute("aria-expanded", "true");
    panel(name).hidden = false;
    if (loaders[name]) loaders[name]();
  };
  const closePanel = (name) => {
    closeAll();
    tools.querySelector(`[data-tool="${name}"]`).focus();
  };
  for (const b of buttons) {
    b.addEventListener("click", () => (isOpen(b.dataset.tool) ? closeAll() : openPanel(b.dataset.tool)));
  }
  tools.addEventListener("keydown", (event) => {
    const open = buttons.find((b) => isOpen(b.dataset.tool));
    if (event.key === "Escape" && open) { event.preventDefault(); closePanel(open.dataset.tool); }
  });

  const sent = (message) => root.dispatchEvent(new CustomEvent("inbox:sent", { detail: { message } }));

  // Into the composer, after what is already typed: the associate reads it, then sends.
  const insert = (text) => {
    const before = input.value.replace(/\s+$/, "");
    input.value = before ? `${before} ${text}` : text;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    input.dispatchEvent(new Event("input", { bubbles: true }));  // "typing…" for the shopper
  };

  // --- saved replies: a combobox over a listbox ----------------------------------------------

  const filter = $("[data-reply-filter]");
  const options = $("[data-reply-options]");
  const problem = $("[data-reply-problem]");
  const empty = $("[data-reply-empty]");
  let replies = [];
  let shown = [];
  let active = -1;

  const renderReplies = () => {
    const q = filter.value.trim().toLowerCase();
    shown = replies.filter((r) => !q || r.title.toLowerCase().includes(q) || r.body.toLowerCase().includes(q));
    active = Math.min(active, shown.length - 1);
    if (active < 0 && shown.length) active = 0;
    options.replaceChildren(...shown.map((r, i) => el("li", {
      id: `reply-option-${r.id}`,
      role: "option",
      class: `tool-option${i === active ? " active" : ""}${r.text === null ? " unfillable" : ""}`,
      "aria-selected": String(i === active),
      "aria-disabled": r.text === null ? "true" : null,
      "data-reply-id": r.id,
      onclick: () => choose(i),
    }, el("strong", { text: r.title }), r.scope === "mine" ? el("span", { class: "pill", text: st("mine") }) : null,
    el("span", { class: "tool-option-text", text: r.text === null ? st("cannotFill", { problem: r.problem }) : r.text }))));
    empty.textContent = shown.length ? "" : replies.length
      ? st("noReplyMatches")
      : st("noReplyYet");
    if (active >= 0 && shown[active]) {
      filter.setAttribute("aria-activedescendant", `reply-option-${shown[active].id}`);
      document.getElementById(`reply-option-${shown[active].id}`).scrollIntoView({ block: "nearest" });
    } else {
      filter.removeAttribute("aria-activedescendant");
    }
  };

  const choose = (i) => {
    const reply = shown[i];
    if (!reply) return;
    if (reply.text === null) {  // refused, with the reason: never "{size}" to a shopper
      problem.textContent = reply.problem;
      return;
    }
    problem.textContent = "";
    closeAll();
    insert(reply.text);
  };

  loaders.replies = async () => {
    problem.textContent = "";
    filter.value = "";
    active = 0;
    filter.focus();
    try {
      replies = await api(`/api/threads/${thread.id}/replies`);
    } catch (err) {
      replies = [];
      problem.textContent = err.message;
    }
    renderReplies();
  };
  filter.addEventListener("input", () => { active = 0; problem.textContent = ""; renderReplies(); });
  filter.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + shown.length) % shown.length;
      problem.textContent = "";
      renderReplies();
    } else if (event.key === "Enter") {
      event.preventDefault();
      choose(active);
    }
  });

  // Saving what is in the composer as a reply of one's own.
  const saveForm = $("[data-save-reply-form]");
  const saveTitle = $("[data-save-reply-title]");
  const saveStatus = $("[data-save-reply-status]");
  loaders["save-reply"] = () => {
    saveStatus.textContent = input.value.trim() ? "" : st("writeAnswerFirst");
    saveTitle.focus();
  };
  saveForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = input.value.trim();
    const title = saveTitle.value.trim();
    if (!body) { saveStatus.textContent = st("writeAnswerFirst"); return; }
    if (!title) { saveStatus.textContent = st("giveTitle"); return; }
    try {
      await api(`/api/brands/${brandId}/replies`, { method: "POST", body: { title, body, scope: "mine" } });
      saveTitle.value = "";
      saveStatus.textContent = st("savedReply", { title });
    } catch (err) {
      saveStatus.textContent = err.message;
    }
  });

  // --- products: search the catalogue, send a card ------------------------------------------

  const search = $("[data-product-search]");
  const results = $("[data-product-results]");
  const productStatus = $("[data-product-status]");

  const sendCard = async (product) => {
    try {
      const message = await api(`/api/threads/${thread.id}/messages`, {
        method: "POST", body: { product_id: product.id, client_id: randomId() },
      });
      sent(message);
      productStatus.textContent = st("productSent", { name: product.name });
    } catch (err) {
      productStatus.textContent = err.message;
    }
  };

  const runSearch = debounce(async () => {
    const q = search.value.trim();
    if (!q) { results.replaceChildren(); productStatus.textContent = ""; return; }
    let found = [];
    try {
      found = await api(`/api/brands/${brandId}/products?q=${encodeURIComponent(q)}&limit=8`);
    } catch (err) {
      productStatus.textContent = err.message;
      return;
    }
    if (search.value.trim() !== q) return;  // a later search is on its way
    productStatus.textContent = found.length ? tn("found", found.length) : st("nothingMatches", { q });
    results.replaceChildren(...found.map((p) => el("li", { class: "tool-result", "data-product-id": p.id },
      p.image_url ? el("img", { src: p.image_url, alt: "" }) : el("span", { class: "ph" }),
      el("span", {}, el("strong", { text: p.name }), " ",
        el("span", { class: "hint", text: `${money(p.price_minor, p.currency)} · ${stockText(p.stock)}` })),
      el("button", { type: "button", class: "button small", "aria-label": st("sendLabel", { name: p.name }), text: st("send"), onclick: () => sendCard(p) }))));
  }, 200);
  loaders.products = () => { search.focus(); };
  search.addEventListener("input", runSearch);

  // --- transfer: colleagues present (with their load), stores --------------------------------

  const colleagues = $("[data-transfer-colleagues]");
  const stores = $("[data-transfer-stores]");
  const transferStatus = $("[data-transfer-status]");

  const transfer = async (body, label) => {
    try {
      await api(`/api/threads/${thread.id}/transfer`, { method: "POST", body });
      transferStatus.textContent = st("transferred", { name: label });
      closeAll();
    } catch (err) {
      transferStatus.textContent = err.message;
    }
  };

  loaders.transfer = async () => {
    let options;
    try {
      options = await api(`/api/threads/${thread.id}/transfer-options`);
    } catch (err) {
      transferStatus.textContent = err.message;
      return;
    }
    colleagues.replaceChildren(...options.colleagues.map((c) => el("li", { class: "tool-result", "data-colleague-id": c.id },
      el("span", {}, el("strong", { text: c.name }), " ",
        el("span", { class: "hint", text: [st("load", { load: c.load, cap: c.cap }), c.store, c.languages.join(", ")].filter(Boolean).join(" · ") })),
      el("button", { type: "button", class: "button small", disabled: !c.has_room, "aria-label": st("transferTo", { name: c.name }),
        text: c.has_room ? st("transfer") : st("full"), onclick: () => transfer({ associate_id: c.id }, c.name) }))));
    if (!options.colleagues.length) colleagues.append(el("li", { class: "hint", text: st("noColleague") }));
    stores.replaceChildren(...options.stores.map((s) => el("li", { class: "tool-result", "data-store-id": s.id },
      el("span", {}, el("strong", { text: s.name }), s.city ? el("span", { class: "hint", text: ` · ${s.city}` }) : null),
      el("button", { type: "button", class: "button small", "aria-label": st("transferTo", { name: s.name }), text: st("transfer"),
        onclick: () => transfer({ store_id: s.id }, s.name) }))));
  };

  // --- the shopper's history -------------------------------------------------------------------

  const history = $("[data-history]");
  const historyBody = $("[data-history-body]");

  const section = (title, items) => (items.length
    ? [el("h3", { text: title }), el("ul", { class: "history-list" }, ...items.map((text) => el("li", { text })))]
    : []);

  const renderHistory = (h) => {
    const parts = [
      el("p", {}, el("strong", { text: h.shopper.name || st("noName") }),
        el("span", { class: "hint", text: ` · ${st("firstSeen", { day: day(h.shopper.since) })}` })),
      el("p", { class: "hint", text: st(h.thread.answered_by.length ? "sinceBy" : "since", {
        day: day(h.thread.since), questions: h.thread.questions, answers: h.thread.answers, by: h.thread.answered_by.join(", "),
      }) }),
    ];
    if (h.product) parts.push(el("p", {}, st("about"), " ", el("strong", { text: h.product.name })));
    parts.push(
      ...section(st("latestQuestions"), h.recent_questions.map((q) => `${when(q.at)}: ${q.body}${q.product ? ` (${q.product})` : ""}`)),
      ...section(st("appointments"), h.appointments.map((a) => `${when(a.starts_at)} · ${st(`appointment_${a.status}`)} · ${a.associate || "—"}, ${a.store}${a.notes ? ` · “${a.notes}”` : ""}`)),
      ...section(st("videoCalls"), h.video_calls.map((c) => st(c.booked ? "callBooked" : "callTalkNow", { when: when(c.started_at), associate: c.associate || "—" }))),
      ...(h.bag ? section(`${st("inTheBag")}${h.bag.count ? ` · ${money(h.bag.total_minor, h.bag.currency)}` : ""}`,
        h.bag.lines.map((l) => `${l.quantity} × ${l.name}${l.size ? `, ${l.size}` : ""}${l.colour ? `, ${l.colour}` : ""} · ${money(l.unit_price_minor, h.bag.currency)}`)) : []),
      ...section(st("orders"), (h.orders || []).map((o) => `${day(o.at)} · ${money(o.total_minor, o.currency)}${o.refunded_minor ? ` (${st("refunded", { amount: money(o.refunded_minor, o.currency) })})` : ""}`)),
      ...section(st("showsWatched"), h.shows_watched.map((s) => `${s.title}${s.at ? ` · ${day(s.at)}` : ""}`)),
    );
    const bagLines = h.bag ? h.bag.lines.length : 0;
    if (!h.appointments.length && !h.video_calls.length && !bagLines && !(h.orders || []).length && !h.shows_watched.length) {
      parts.push(el("p", { class: "hint", text: st("nothingYet") }));
    }
    if (!h.bag) {
      parts.push(el("p", { class: "hint", text: st("bagHidden") }));
    }
    historyBody.replaceChildren(...parts);
  };

  const loadHistory = async () => {
    if (!thread || !history.open) return;
    const id = thread.id;
    try {
      const h = await api(`/api/threads/${id}/shopper-history`);
      if (thread && thread.id === id) renderHistory(h);
    } catch (err) {
      historyBody.replaceChildren(el("p", { class: "hint", text: err.message }));
    }
  };
  const historySoon = debounce(loadHistory, 300);
  history.addEventListener("toggle", loadHistory);

  // --- following the inbox ---------------------------------------------------------------------

  root.addEventListener("inbox:thread", (event) => {
    const other = !thread || thread.id !== event.detail.thread.id;
    thread = event.detail.thread;
    mine = event.detail.mine;
    tools.hidden = !mine;
    for (const b of tools.querySelectorAll("[data-own-only]")) b.hidden = !event.detail.me;
    if (other) {
      closeAll();
      for (const node of [problem, productStatus, transferStatus, saveStatus]) node.textContent = "";
      results.replaceChildren();
      search.value = "";
      historyBody.replaceChildren(el("p", { class: "hint", text: st("loading") }));
      loadHistory();
    } else if (!mine) {
      closeAll();
    }
  });

  root.addEventListener("inbox:push", (event) => {
    const { name, data } = event.detail;
    if (!thread) return;
    const id = data.thread_id ?? (data.thread && data.thread.id);
    // Loads move whenever a thread of the brand changes hands: the list follows.
    if (name === "thread_changed" && isOpen("transfer") && mine) loaders.transfer();
    if (id === thread.id && (name === "thread_message" || name === "thread_changed")) historySoon();
  });
}
