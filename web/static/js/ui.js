// Small helpers shared by the page modules: API calls with CSRF, money, countdowns, DOM.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

// Extra headers for every API call (the embed adds its shopper token here).
export const apiHeaders = {};

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json", ...apiHeaders };
  if (method !== "GET") headers["X-CSRFToken"] = csrf();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw Object.assign(new Error(t("You seem to be offline. Check your connection.")), { code: "offline" });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(data.message || t("The server said %(status)s.", { status: response.status })), {
      code: data.error || "error", status: response.status,
    });
  }
  return data;
}

// Prices as the page's locale writes them; the currency's own digits (CLDR, as Babel on the
// server): JPY has none, so its minor unit is the yen.
export function money(minor, currency) {
  try {
    const format = new Intl.NumberFormat(pageLang(), { style: "currency", currency });
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(minor / 10 ** digits);
  } catch (err) {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

export function untilText(target, now = Date.now()) {
  let seconds = Math.max(0, Math.round((target - now) / 1000));
  const days = Math.floor(seconds / 86400); seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600); seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60); seconds -= minutes * 60;
  const two = (n) => String(n).padStart(2, "0");
  if (days > 0) return t("%(d)sd %(h)sh %(m)sm %(s)ss", { d: days, h: two(hours), m: two(minutes), s: two(seconds) });
  if (hours > 0) return t("%(h)sh %(m)sm %(s)ss", { h: hours, m: two(minutes), s: two(seconds) });
  return `${minutes}:${two(seconds)}`;
}

// el("li", {class: "x", text: "hi"}, child...) — text is always set as text, never HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function stockText(stock) {
  if (stock <= 0) return t("Sold out");
  return t("%(n)s in stock", { n: stock });
}

export function readJson(id, fallback) {
  const node = document.getElementById(id);
  if (!node) return fallback;
  try { return JSON.parse(node.textContent); } catch (err) { return fallback; }
}

// The page's strings in its language: base.html renders them as JSON (web/i18n.py) from the
// catalogues, keyed by the English text. t("%(n)s left", {n: 3}) as gettext writes it;
// `make messages` extracts every t("...") and tn("...", "...") of these modules.
const block = readJson("vitrine-i18n", {});
const catalogue = block.messages || {};
const fill = (text, params) =>
  text.replace(/%\((\w+)\)s/g, (whole, key) => (key in params ? String(params[key]) : whole));
export function t(msgid, params = {}) {
  return fill(catalogue[msgid] || msgid, params);
}

// A count sentence in the page's language: tn("%(n)s piece", "%(n)s pieces", n) — `n` is a
// parameter too. The block carries each plural message's forms in the catalogue's order and
// the language's CLDR categories in that order ("one", "many", "other" for French, where 0
// and 1 are singular; only "other" for Chinese); Intl.PluralRules names the count's category.
// Without a translation (English), the English pair and rule.
let rules = null;
export function tn(singular, plural, n, params = {}) {
  const values = { n, ...params };
  const forms = block.plurals?.[singular];
  if (!forms) return fill(n === 1 ? singular : plural, values);
  const categories = block.categories || ["other"];
  rules ||= new Intl.PluralRules(pageLang());
  let index = categories.indexOf(rules.select(n));
  if (index < 0) index = categories.indexOf("other"); // a category the catalogue lacks
  return fill(forms[Math.max(0, Math.min(index, forms.length - 1))], values);
}

// The page's language as a BCP 47 tag ("fr", "zh-Hans"): dates and numbers in the browser.
export const pageLang = () => document.documentElement.lang || "en";

// A product's name in the page's language: cards and bag lines carry the brand's
// translations (`names`, sessions/brand_texts.py), else their own name.
export function localName(item) {
  const code = pageLang().replace("-", "_");
  return (item && item.names && item.names[code]) || (item && item.name) || "";
}
