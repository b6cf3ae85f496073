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
    throw Object.assign(new Error("You seem to be offline. Check your connection."), { code: "offline" });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(data.message || `The server said ${response.status}.`), {
      code: data.error || "error", status: response.status,
    });
  }
  return data;
}

const ZERO_DECIMAL = new Set(["JPY", "KRW"]);
export function money(minor, currency) {
  const value = ZERO_DECIMAL.has(currency) ? minor : minor / 100;
  try {
    return new Intl.NumberFormat(document.documentElement.lang || "en", { style: "currency", currency }).format(value);
  } catch (err) {
    return `${value.toFixed(2)} ${currency}`;
  }
}

export function untilText(target, now = Date.now()) {
  let seconds = Math.max(0, Math.round((target - now) / 1000));
  const days = Math.floor(seconds / 86400); seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600); seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60); seconds -= minutes * 60;
  const two = (n) => String(n).padStart(2, "0");
  if (days > 0) return `${days}d ${two(hours)}h ${two(minutes)}m ${two(seconds)}s`;
  if (hours > 0) return `${hours}h ${two(minutes)}m ${two(seconds)}s`;
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
  if (stock <= 0) return "Sold out";
  return `${stock} in stock`;
}

export function readJson(id, fallback) {
  const node = document.getElementById(id);
  if (!node) return fallback;
  try { return JSON.parse(node.textContent); } catch (err) { return fallback; }
}
