// The interactive API page: Swagger UI (vendored from npm, see scripts/vendor-assets)
// reading the app's own OpenAPI document. A module runs after the deferred bundle.
const root = document.getElementById("swagger");

function start() {
  if (typeof window.SwaggerUIBundle !== "function") {
    root.textContent = "The API viewer could not load; the document itself is at " + root.dataset.specUrl + ".";
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger",
    // Deep links put a link inside each operation's header button (axe: nested-interactive,
    // swagger-ui issue #9576); without them the header is one plain button.
    deepLinking: false,
    // Each operation shows its own schemas; the long list of all of them adds nothing.
    defaultModelsExpandDepth: -1,
    // Same-origin calls carry the session cookie; the CSRF header the API expects
    // for a signed-in caller comes from the page's meta tag.
    requestInterceptor: (req) => {
      const token = document.querySelector('meta[name="csrf-token"]')?.content;
      if (token) req.headers["X-CSRFToken"] = token;
      return req;
    },
  });
}

start();
