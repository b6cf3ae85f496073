// The bag page: remove a line (its stock goes back), the total and the count follow.
// The product page: "add to bag" when the brand sells outside live sessions.
import { api, money } from "./ui.js";

const status = document.getElementById("bag-status") || document.getElementById("product-bag-status");

function showBag(bag) {
  for (const node of document.querySelectorAll("[data-bag-count]")) {
    node.textContent = String(bag.count);
    node.setAttribute("aria-label", `${bag.count} items in your bag`);
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
    status.textContent = bag.lines.length ? "Removed." : "Your bag is empty.";
  } catch (err) {
    button.disabled = false;
    status.textContent = err.message;
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest?.("form[data-product-add]");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  status.textContent = "Adding…";
  try {
    const added = await api("/api/bag/lines", { method: "POST", body: { variant_id: Number(form.variant_id.value), quantity: 1 } });
    showBag(added.bag);
    status.textContent = "Added to your bag.";
  } catch (err) {
    status.textContent = err.message;
  } finally {
    button.disabled = false;
  }
});
