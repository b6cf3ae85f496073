// The page's words in the reader's language. The page renders them with _() into a JSON
// block (<script type="application/json" id="page-strings">, from web/js_strings.py): no
// inline script, so the CSP holds. st("key", {name}) fills {name}-style placeholders. (Named st, not t: t() is ui.js's msgid lookup, which pybabel extracts.)

let table = null;

// `fallback`: the English of a module shared with pages that give no table (shop pages).
export function st(key, params = {}, fallback = key) {
  if (table === null) {
    const node = document.getElementById("page-strings");
    try { table = node ? JSON.parse(node.textContent) : {}; } catch (err) { table = {}; }
  }
  const text = table[key] ?? fallback;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// The page's language, for Intl (dates, numbers): <html lang> follows the reader's choice.
export const pageLang = () => document.documentElement.lang || "en";

// A count in the reader's language: the page gives "key.one" and "key.other" (ngettext);
// Intl.PluralRules picks the form (French: 0 and 1 are "one"; Chinese has one form).
export function tn(key, count, params = {}) {
  const rule = new Intl.PluralRules(pageLang()).select(count);
  const all = { n: count, ...params };
  const chosen = st(`${key}.${rule}`, all);
  return chosen === `${key}.${rule}` ? st(`${key}.other`, all) : chosen;
}

// The store's time zone, in which the console shows instants (the page gives it).
export const pageZone = () => st("zone") === "zone" ? undefined : st("zone");

// An instant ("2026-12-01T17:30:00Z") in the reader's language and the store's zone.
export function when(iso, options = { dateStyle: "medium", timeStyle: "short" }) {
  return new Date(iso).toLocaleString(pageLang(), { ...options, timeZone: pageZone() });
}
export const day = (iso) => when(iso, { dateStyle: "medium" });
