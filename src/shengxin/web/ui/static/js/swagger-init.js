// Starts Swagger UI on /docs (kept in a file so the page needs no inline script under our CSP).
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
