// "Try it on for me" on a product page (web/templates/shop/product.html): the request goes
// to a boutique that has the size and colour (POST /api/brands/<id>/tryon); the answer comes
// in the page's conversation, which ask.js opens when told ("vitrine:thread"). No store has
// it: the page says so and offers the nearest variant that one has, in one tap.
import { api, t } from "./ui.js";

function start(form) {
  const brandId = Number(form.dataset.brandId);
  const select = form.querySelector("select");
  const status = form.querySelector("[data-tryon-status]");
  const nearest = form.querySelector("[data-tryon-nearest]");
  const nearestAsk = form.querySelector("[data-tryon-nearest-ask]");
  const button = form.querySelector("button[type=submit]");
  const language = (document.documentElement.lang || "en").slice(0, 2).toLowerCase();

  const ask = async (variantId) => {
    button.disabled = true;
    nearest.hidden = true;
    status.textContent = t("Sending your request…");
    try {
      const result = await api(`/api/brands/${brandId}/tryon`, {
        method: "POST", body: { variant_id: variantId, language },
      });
      status.textContent = result.message;
      if (result.thread) document.dispatchEvent(new CustomEvent("vitrine:thread", { detail: result.thread }));
      if (result.nearest) {
        nearestAsk.textContent = t("Ask for %(variant)s instead", { variant: result.nearest.label });
        nearestAsk.dataset.variantId = String(result.nearest.variant_id);
        nearest.hidden = false;
      }
    } catch (err) {
      status.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  };

  form.addEventListener("submit", (event) => { event.preventDefault(); ask(Number(select.value)); });
  nearestAsk.addEventListener("click", () => {
    select.value = nearestAsk.dataset.variantId;
    ask(Number(nearestAsk.dataset.variantId));
  });
}

document.querySelectorAll("[data-tryon]").forEach(start);
