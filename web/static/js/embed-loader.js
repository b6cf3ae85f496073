/* Vitrine embed: put this on any page.
 *   <div data-vitrine-show="42"></div>
 *   <script src="https://vitrine.example/embed.js" async></script>
 * Each placeholder becomes an iframe of the show's player, chat and add-to-bag. */
(function () {
  var script = document.currentScript;
  var origin = script ? new URL(script.src).origin : "";
  function mount(node) {
    if (node.getAttribute("data-vitrine-mounted")) return;
    node.setAttribute("data-vitrine-mounted", "1");
    var frame = document.createElement("iframe");
    frame.src = origin + "/embed/shows/" + encodeURIComponent(node.getAttribute("data-vitrine-show"));
    frame.title = node.getAttribute("data-title") || "Live shopping show";
    frame.allow = "autoplay; fullscreen; picture-in-picture";
    frame.loading = "lazy";
    frame.style.cssText = "width:100%;border:0;display:block;min-height:480px;";
    frame.style.height = node.getAttribute("data-height") || "720px";
    node.appendChild(frame);
    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      var data = event.data || {};
      if (data.type === "vitrine:height" && data.height > 0 && !node.getAttribute("data-height")) {
        frame.style.height = Math.ceil(data.height) + "px";
      }
    });
  }
  function mountAll() {
    var nodes = document.querySelectorAll("[data-vitrine-show]");
    for (var i = 0; i < nodes.length; i++) mount(nodes[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
