// The API documentation (/api/docs): Swagger UI from the installed fastapi-offline
// package, started from this file rather than an inline script, so the page runs under
// the platform's ordinary Content-Security-Policy. Nothing is fetched from outside:
// validatorUrl null keeps Swagger UI from sending the schema to its online validator.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
