// The API reference page at /docs: Scalar's page over /openapi.json. Its script comes from
// the @scalar/api-reference package, handed in by the entry point and served here, so the
// page works where the service's users cannot reach a public CDN (a depot network, say);
// without it the page falls back to Scalar's CDN.
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";

export interface ReferenceScript {
  /** Where the page loads it from, e.g. /docs/scalar-1.76.0.js (versioned: cached for good). */
  path: string;
  body: string;
}

export function referencePageRoutes(script: ReferenceScript | undefined) {
  const app = new Hono().get(
    "/docs",
    // No other site may frame the page (clickjacking); HSTS is the operator's call, at the proxy.
    secureHeaders({
      xFrameOptions: "DENY",
      contentSecurityPolicy: { frameAncestors: ["'none'"] },
      strictTransportSecurity: false,
    }),
    // Fonts from Scalar's servers only when the script comes from there too: the page
    // served here must not reach out for anything.
    Scalar({
      url: "/openapi.json",
      pageTitle: "Fleet energy telemetry API",
      cdn: script?.path,
      withDefaultFonts: script === undefined,
    }),
  );
  if (script) {
    app.get(script.path, (c) =>
      c.body(script.body, 200, {
        "Content-Type": "text/javascript; charset=utf-8",
        "Cache-Control": "public, max-age=31536000, immutable",
      }),
    );
  }
  return app;
}
