// Charts of the analytics pages, drawn with Chart.js (served from /static/vendor, never a CDN).
// The figures come from the page's #chart-data JSON; each chart's table is on the page too,
// so a reader without the canvas (or a screen reader) has the same numbers.

import { pageLang, st } from "./strings.js";

const data = JSON.parse(document.getElementById("chart-data").textContent);
const ink = getComputedStyle(document.documentElement).getPropertyValue("--ink").trim() || "#1c1c1c";
const accent = getComputedStyle(document.documentElement).getPropertyValue("--brand-accent").trim() || "#b08d57";

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas || !window.Chart) return null;
  const chart = new window.Chart(canvas, {
    ...config,
    // locale: Chart.js formats its ticks and tooltips' numbers in the reader's language.
    options: { responsive: true, maintainAspectRatio: false, animation: false, locale: pageLang(), ...config.options },
  });
  canvas.dataset.rendered = "true";  // tests and people alike can tell it drew
  return chart;
}

function money(value) {
  return new Intl.NumberFormat(pageLang(), { style: "currency", currency: data.currency || "EUR" }).format(value);
}

if (data.revenueByShow) {
  const r = data.revenueByShow;
  draw("revenue-chart", {
    type: "bar",
    data: {
      labels: r.labels,
      datasets: [
        { label: st("attributed"), data: r.attributed, backgroundColor: ink },
        { label: st("influenced"), data: r.influenced, backgroundColor: accent },
      ],
    },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: (v) => money(v) } } },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.parsed.y)}` } } },
    },
  });
}

if (data.viewers) {
  const minutes = data.viewers.map((_, i) => i);
  // Pins are drawn as points on the viewers line, at the minute they were made.
  const pins = data.pins.map((p) => ({ x: p.minute, y: data.viewers[p.minute] ?? 0, name: p.name }));
  draw("viewers-chart", {
    type: "line",
    data: {
      labels: minutes,
      datasets: [
        { label: st("viewers"), data: data.viewers, borderColor: ink, pointRadius: 0, stepped: "after" },
        {
          label: st("productPinned"), type: "scatter", data: pins, pointRadius: 7,
          pointStyle: "triangle", backgroundColor: accent, borderColor: accent,
        },
      ],
    },
    options: {
      scales: {
        x: { type: "linear", title: { display: true, text: st("minuteOfShow") }, ticks: { precision: 0 } },
        y: { beginAtZero: true, title: { display: true, text: st("viewers") }, ticks: { precision: 0 } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (c) => (c.dataset.type === "scatter" ? st("pinned", { name: c.raw.name }) : st("nViewers", { n: number(c.parsed.y) })),
          },
        },
      },
    },
  });
}

if (data.funnel) {
  draw("funnel-chart", {
    type: "bar",
    data: { labels: data.funnel.labels, datasets: [{ label: st("people"), data: data.funnel.values, backgroundColor: ink }] },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
  });
}

const number = (v) => new Intl.NumberFormat(pageLang()).format(v);
const seconds = (v) => (v === null || v === undefined ? "—" : st("seconds", { n: number(Math.round(v)) }));

if (data.responseByDay) {
  const r = data.responseByDay;
  draw("response-chart", {
    data: {
      labels: r.labels,
      datasets: [
        { type: "bar", label: st("chats"), data: r.chats, backgroundColor: accent, yAxisID: "chats" },
        { type: "line", label: st("firstResponse"), data: r.first, borderColor: ink, spanGaps: true, yAxisID: "seconds" },
        {
          type: "line", label: st("averageResponse"), data: r.average, borderColor: ink,
          borderDash: [6, 4], spanGaps: true, yAxisID: "seconds",
        },
      ],
    },
    options: {
      scales: {
        chats: { position: "right", beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: st("chats") }, grid: { drawOnChartArea: false } },
        seconds: { position: "left", beginAtZero: true, title: { display: true, text: st("secondsAxis") } },
      },
      plugins: {
        tooltip: { callbacks: { label: (c) => (c.dataset.yAxisID === "seconds" ? `${c.dataset.label}: ${seconds(c.parsed.y)}` : st("nChats", { n: number(c.parsed.y) })) } },
      },
    },
  });
}

if (data.teamResponse) {
  const team = data.teamResponse;
  draw("team-chart", {
    type: "bar",
    data: {
      labels: team.labels,
      datasets: [
        { label: st("firstResponse"), data: team.first, backgroundColor: ink },
        { label: st("averageResponse"), data: team.average, backgroundColor: accent },
      ],
    },
    options: {
      indexAxis: "y",
      scales: { x: { beginAtZero: true, title: { display: true, text: st("secondsInChats") } } },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${seconds(c.parsed.x)}` } } },
    },
  });
}
