// The bag page: change a line's quantity (− / number / +; 0 removes it) or remove a line
// (its stock goes back); the line's amount, the total and the count follow.
// The product page: "add to bag" when the brand sells outside live sessions.
import { api, money, t, tn } from "./ui.js";

const status = document.getElementById("bag-status") || document.getElementById("product-bag-status");

function showBag(bag) {
  for (const node of document.querySelectorAll("[data-bag-count]")) {
    node.textContent = String(bag.count);
    node.setAttribute("aria-label", tn("%(num)s item in your bag", "%(num)s items in your bag", bag.count, { num: bag.count }));
  }
  for (const node of document.querySelectorAll("[data-bag-total]")) node.textContent = money(bag.total_minor, bag.currency);
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest?.("[data-remove-line]");
  if (!button) return;
  button.disabled = true;
  try {
    const bag = await api(`/api/bag/lines/${button.dataset.removeLine}`, { method: "DELETE" });
    button.closest("[data-line-id]").remove();
    showBag(bag);
    status.textContent = bag.lines.length ? t("Removed.") : t("Your bag is empty.");
  } catch (err) {
    button.disabled = false;
    status.textContent = err.message;
  }
});

function showLines(bag) {
  const byId = new Map(bag.lines.map((line) => [String(line.id), line]));
  for (const row of document.querySelectorAll("[data-line-id]")) {
    const line = byId.get(row.dataset.lineId);
    if (!line) {
      row.remove();
      continue;
    }
    const input = row.querySelector("[data-line-quantity]");
    input.value = input.defaultValue = String(line.quantity);
    row.querySelector("[data-line-amount]").textContent = money(line.unit_price_minor * line.quantity, bag.currency);
  }
}

async function setQuantity(row, quantity) {
  const controls = row.querySelectorAll(".qty button, .qty input");
  for (const node of controls) node.disabled = true;
  try {
    const bag = await api(`/api/bag/lines/${row.dataset.lineId}`, { method: "PATCH", body: { quantity } });
    // A lower quantity is reserved again as a new line of the same size and colour.
    const again = bag.lines.find(
      (line) => String(line.variant_id) === row.dataset.variantId && !document.querySelector(`[data-line-id="${line.id}"]`),
    );
    if (again && !bag.lines.some((line) => String(line.id) === row.dataset.lineId)) {
      row.dataset.lineId = String(again.id);
      row.querySelector("[data-remove-line]").dataset.removeLine = String(again.id);
    }
    showLines(bag);
    showBag(bag);
    status.textContent = bag.lines.length ? t("Quantity updated.") : t("Your bag is empty.");
  } catch (err) {
    row.querySelector("[data-line-quantity]").value = row.querySelector("[data-line-quantity]").defaultValue;
    status.textContent = err.message;
  } finally {
    for (const node of controls) node.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-step]");
  if (!button) return;
  const row = button.closest("[data-line-id]");
  const input = row.querySelector("[data-line-quantity]");
  const quantity = Math.max(0, Math.min(10, Number(input.value) + Number(button.dataset.step)));
  setQuantity(row, quantity);
});

document.addEventListener("change", (event) => {
  const input = event.target.closest?.("[data-line-quantity]");
  if (!input) return;
  const quantity = Number(input.value);
  if (!Number.isInteger(quantity) || quantity < 0 || quantity > 10) {
    status.textContent = t("Choose between 0 and 10.");
    input.value = input.defaultValue;
    return;
  }
  setQuantity(input.closest("[data-line-id]"), quantity);
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest?.("form[data-product-add]");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  status.textContent = t("Adding…");
  try {
    const added = await api("/api/bag/lines", { method: "POST", body: { variant_id: Number(form.variant_id.value), quantity: 1 } });
    showBag(added.bag);
    status.textContent = t("Added to your bag.");
  } catch (err) {
    status.textContent = err.message;
  } finally {
    button.disabled = false;
  }
});
