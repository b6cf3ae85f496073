// The shared bag of a 1:1 (the shopper's chat, the inbox's conversation, the consultation
// room): the shopper's open bag at the brand, which both sides edit — add (from a product
// card in the thread, or the search here), change a quantity, remove — and the shopper
// checks out. Every change is pushed to both sides as `shared_bag` (no polling).
// Text is data: textContent, never innerHTML.

import { api, el, localName, money, t, tn } from "./ui.js";
import { connectThreads, onProductCard } from "./thread-view.js";

const debounce = (fn, ms) => {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
};

export function sharedBag(root, { auth } = {}) {
  if (!root) return { setThread() {} };
  const side = root.dataset.side || "shopper";
  const brandId = Number(root.dataset.brandId);
  const list = root.querySelector("[data-shared-bag-lines]");
  const total = root.querySelector("[data-shared-bag-total]");
  const status = root.querySelector("[data-shared-bag-status]");
  const checkout = root.querySelector("[data-shared-bag-checkout]");
  const search = root.querySelector("[data-shared-bag-search]");
  const results = root.querySelector("[data-shared-bag-results]");
  let threadId = root.dataset.threadId ? Number(root.dataset.threadId) : null;
  let lines = [];

  const render = (bag) => {
    lines = bag.lines || [];
    root.dataset.count = String(bag.count || 0);
    if (!lines.length) {
      list.replaceChildren(el("li", { class: "empty", text: t("The bag is empty.") }));
      total.textContent = "";
    } else {
      list.replaceChildren(...lines.map((line) => {
        const what = [localName(line), line.size, line.colour].filter(Boolean).join(" · ");
        const set = (quantity) => change(line, quantity);
        return el("li", { class: "shared-bag-line", "data-line-id": line.id, "data-variant-id": line.variant_id },
          el("span", { class: "shared-bag-what", text: what }),
          el("span", { class: "shared-bag-qty" },
            el("button", { type: "button", class: "button small", "aria-label": t("One fewer %(name)s", { name: localName(line) }), text: "−", onclick: () => set(line.quantity - 1) }),
            el("output", { "data-quantity": true, "aria-label": t("Quantity of %(name)s", { name: localName(line) }), text: String(line.quantity) }),
            el("button", { type: "button", class: "button small", "aria-label": t("One more %(name)s", { name: localName(line) }), text: "+", onclick: () => set(line.quantity + 1) })),
          el("span", { class: "price", text: money(line.unit_price_minor * line.quantity, bag.currency) }),
          el("button", { type: "button", class: "button small", "aria-label": t("Remove %(name)s", { name: localName(line) }), text: t("Remove"), onclick: () => remove(line) }));
      }));
      const pieces = tn("%(n)s piece", "%(n)s pieces", bag.count);
      total.textContent = `${pieces} · ${money(bag.total_minor, bag.currency)}`;
    }
    if (checkout) checkout.disabled = !lines.length;
  };

  const call = async (path, options, done) => {
    status.textContent = "";
    try {
      const bag = await api(path, options);
      render(bag);
      if (done) status.textContent = done;
      return bag;
    } catch (err) {
      status.textContent = err.message;
      return null;
    }
  };

  const load = () => threadId && call(`/api/threads/${threadId}/bag`);
  const add = (variantId, name) => threadId && call(`/api/threads/${threadId}/bag/lines`,
    { method: "POST", body: { variant_id: variantId, quantity: 1 } }, t("%(name)s is in the bag.", { name }));
  const change = (line, quantity) => call(`/api/threads/${threadId}/bag/lines/${line.id}`,
    { method: "PATCH", body: { quantity: Math.max(0, quantity) } });
  const remove = (line) => call(`/api/threads/${threadId}/bag/lines/${line.id}`, { method: "DELETE" });

  // A size-and-colour choice and "Add to bag", for a product card or a search result.
  const addControl = (product) => {
    const variants = (product.variants || []).filter((v) => v.stock > 0);
    if (!variants.length) return el("p", { class: "hint", text: t("Sold out") });
    const choice = el("select", { "aria-label": t("Size and colour of %(name)s", { name: localName(product) }), "data-shared-bag-variant": true },
      ...variants.map((v) => el("option", { value: String(v.id), text: [v.size, v.colour].filter(Boolean).join(" · ") || t("One size") })));
    return el("span", { class: "shared-bag-add" }, variants.length > 1 ? choice : null,
      el("button", { type: "button", class: "button small", "data-shared-bag-add": product.id,
        text: t("Add to bag"), onclick: () => add(Number(variants.length > 1 ? choice.value : variants[0].id), localName(product)) }));
  };

  onProductCard((box, card) => {
    if (!box.closest("[data-ask], [data-inbox-thread], #consult-room")) return;
    if (box.querySelector("[data-shared-bag-add]")) return;
    box.append(addControl(card));
  });

  const runSearch = debounce(async () => {
    const q = search.value.trim();
    if (!q) { results.replaceChildren(); return; }
    let found = [];
    try {
      found = await api(`/api/brands/${brandId}/products?q=${encodeURIComponent(q)}&limit=8`);
    } catch (err) {
      status.textContent = err.message;
      return;
    }
    if (search.value.trim() !== q) return;
    results.replaceChildren(...found.map((p) => el("li", { class: "tool-result" },
      el("span", {}, el("strong", { text: p.name }), " ", el("span", { class: "hint", text: money(p.price_minor, p.currency) })),
      addControl(p))));
    if (!found.length) results.replaceChildren(el("li", { class: "hint", text: t("Nothing matches “%(query)s”.", { query: q }) }));
  }, 200);
  if (search) search.addEventListener("input", runSearch);

  if (checkout) {
    checkout.addEventListener("click", async () => {
      status.textContent = "";
      checkout.disabled = true;
      try {
        const done = await api(`/api/threads/${threadId}/bag/checkout`, { method: "POST" });
        render({ lines: [], count: 0, total_minor: 0 });
        root.dataset.checkedOut = "1";
        status.textContent = t("Your bag went to checkout.");
        if (done.redirect_url) window.location.assign(done.redirect_url);
      } catch (err) {
        status.textContent = err.message;
        checkout.disabled = !lines.length;
      }
    });
  }

  // Connected once there is a thread (so a shopper, and the socket is in their room).
  let listening = false;
  const listen = () => {
    if (listening) return;
    listening = true;
    connectThreads({
      connect: () => { root.dataset.live = "1"; load(); },
      shared_bag: (d) => {
        if (d.thread_id !== threadId) return;
        render(d.bag);
        if (d.by) status.textContent = t("Updated by %(name)s.", { name: d.by });
      },
    }, { auth });
  };

  const setThread = (id) => {
    if (id === threadId && !root.hidden) return;
    threadId = id;
    root.hidden = !id;
    if (!id) return;
    root.dataset.threadId = String(id);
    load();
    listen();
  };
  if (threadId) setThread(threadId);
  return { setThread, side };
}

// Pages with the bag's section outside another module's care (the consultation room) start
// it themselves; the chat and the inbox hand it their thread.
const standalone = document.querySelector("[data-shared-bag][data-standalone]");
if (standalone) sharedBag(standalone);
const inbox = document.querySelector("[data-inbox]");
if (inbox) {
  const bag = sharedBag(inbox.querySelector("[data-shared-bag]"));
  inbox.addEventListener("inbox:thread", (event) => bag.setThread(event.detail.thread.id));
}
