// Colour truth in the consultation room (sessions/colour, web/console/colour.py).
// The associate's snapshot is corrected against the reference card on the server; they tap
// the piece to measure it against the catalogue's colour of a variant, and may keep that
// measurement as the variant's catalogue colour. The shopper sees the corrected picture with
// the card's residual ΔE and the measured colour against the catalogue's (swatches + words).
// Sentences come translated from the page (data-colour-words), numbers are filled in here.

const el = (tag, attrs = {}, text = "") => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
};

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));

export function colourWords(root) {
  try { return JSON.parse(root.dataset.colourWords || "{}"); } catch { return {}; }
}

function swatch(hex, label) {
  const item = el("span", { class: "colour-swatch-item" });
  const chip = el("span", { class: "colour-swatch", "aria-hidden": "true" });
  chip.style.backgroundColor = hex; // CSSOM, not a style attribute: the CSP allows it
  item.append(chip, el("span", {}, `${label} (${hex})`));
  return item;
}

// The sentence for a comparison: "Within what an eye can tell apart" or "Noticeably bluer…".
export function verdictText(comparison, words) {
  const key = comparison.verdict === "same" ? "same" : `${comparison.verdict}_${comparison.direction}`;
  return fill(words[key] || "", { de: comparison.delta_e.toFixed(1) });
}

// The figures under a corrected snapshot, for the chat (both sides) and the preview.
export function colourReport(report, words) {
  const box = el("div", { class: "colour-report", "data-colour-report": "" });
  box.append(el("p", { "data-colour-card": "" }, fill(words.corrected || "", { de: report.card_delta_e.toFixed(1) })));
  if (!report.measured) return box;
  const row = el("p", { class: "colour-swatches" });
  row.append(swatch(report.measured.hex, words.measured || ""));
  const variant = report.variant;
  if (variant && variant.reference_hex) {
    const name = [variant.product, variant.label].filter(Boolean).join(" · ");
    row.append(swatch(variant.reference_hex, fill(words.catalogue || "", { name })));
  }
  box.append(row);
  if (report.comparison) {
    box.append(el("p", { "data-colour-verdict": report.comparison.verdict }, verdictText(report.comparison, words)));
    if (variant.source === "swatch") box.append(el("p", { class: "muted" }, words.swatch_note || ""));
  } else if (variant) {
    box.append(el("p", { class: "muted" }, words.no_reference || ""));
  }
  return box;
}

const b64ToBlob = (b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type: "image/jpeg" });
};

// The associate's controls around a snapshot already taken (the relay's JPEG in `raw()`).
export function colourControls(box, { sessionId, csrf, raw, image, words }) {
  const toggle = box.querySelector("[data-colour-correct]");
  const variant = box.querySelector("[data-colour-variant]");
  const result = box.querySelector("[data-colour-result]");
  const keep = box.querySelector("[data-colour-keep]");
  const marker = box.querySelector("[data-colour-marker]");
  let point = null;

  const form = () => {
    const data = new FormData();
    const picture = raw();
    data.append("image", picture, picture.type === "image/png" ? "snapshot.png" : "snapshot.jpg");
    if (point) { data.append("x", point.x.toFixed(4)); data.append("y", point.y.toFixed(4)); }
    if (point && variant && variant.value) data.append("variant_id", variant.value);
    return data;
  };
  const post = async (url) => {
    const response = await fetch(url, { method: "POST", body: form(), credentials: "same-origin", headers: { "X-CSRFToken": csrf(), Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || words.failed || "");
    return body;
  };

  async function analyse() {
    if (!toggle || !toggle.checked) { result.replaceChildren(); return; }
    result.replaceChildren(el("p", {}, words.checking || ""));
    try {
      const body = await post(`/console/live/${sessionId}/colour`);
      if (!body.found) {
        box.dataset.colour = "none";
        result.replaceChildren(el("p", { "data-colour-none": "" }, body.message));
        if (keep) keep.hidden = true;
        return;
      }
      box.dataset.colour = "corrected";
      image.src = URL.createObjectURL(b64ToBlob(body.image));
      result.replaceChildren(colourReport(body.report, words));
      if (!point) result.append(el("p", { class: "muted" }, words.tap || ""));
      if (keep) keep.hidden = !(point && variant && variant.value);
    } catch (err) { result.replaceChildren(el("p", {}, err.message)); }
  }

  function pick(x, y) {
    point = { x: Math.min(1, Math.max(0, x)), y: Math.min(1, Math.max(0, y)) };
    if (marker) {
      marker.hidden = false;
      marker.style.left = `${point.x * 100}%`;
      marker.style.top = `${point.y * 100}%`;
    }
    analyse();
  }
  image.addEventListener("click", (event) => {
    const r = image.getBoundingClientRect();
    pick((event.clientX - r.left) / r.width, (event.clientY - r.top) / r.height);
  });
  // From the keyboard: Enter measures the middle of the picture, arrows move the point.
  image.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: [-0.05, 0], ArrowRight: [0.05, 0], ArrowUp: [0, -0.05], ArrowDown: [0, 0.05] }[event.key];
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(point?.x ?? 0.5, point?.y ?? 0.5); }
    else if (step) { event.preventDefault(); pick((point?.x ?? 0.5) + step[0], (point?.y ?? 0.5) + step[1]); }
  });
  if (toggle) toggle.addEventListener("change", analyse);
  if (variant) variant.addEventListener("change", analyse);
  if (keep) keep.addEventListener("click", async () => {
    try {
      await post(`/console/variants/${variant.value}/reference-colour`);
      result.append(el("p", { "data-colour-kept": "" }, words.kept || ""));
      analyse();
    } catch (err) { result.append(el("p", {}, err.message)); }
  });

  return {
    reset() { point = null; if (marker) marker.hidden = true; if (keep) keep.hidden = true; box.dataset.colour = ""; analyse(); },
    // What the send adds to its form: ask for the correction and the measurement.
    extend(data) {
      if (!toggle || !toggle.checked) return;
      data.append("colour", "1");
      if (point) { data.append("x", point.x.toFixed(4)); data.append("y", point.y.toFixed(4)); }
      if (point && variant && variant.value) data.append("variant_id", variant.value);
    },
  };
}
