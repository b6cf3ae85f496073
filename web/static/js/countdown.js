// Brand home: live countdowns to each upcoming show, and start times in the reader's zone.
import { pageLang, t, untilText } from "./ui.js";

function tick() {
  for (const node of document.querySelectorAll("[data-countdown]")) {
    const target = Date.parse(node.dataset.countdown);
    node.textContent = target > Date.now() ? t("Starts in %(time)s", { time: untilText(target) }) : t("Starting any moment");
  }
}

for (const node of document.querySelectorAll("time[data-local-time]")) {
  const when = new Date(node.getAttribute("datetime"));
  node.textContent = when.toLocaleString(pageLang(), {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
}
tick();
setInterval(tick, 1000);
