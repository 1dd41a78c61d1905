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
  /** The body gzipped ahead of time, served to clients that accept gzip. */
  gzipped?: Uint8Array<ArrayBuffer>;
}

/** Whether an Accept-Encoding header allows gzip (by name or `*`, with a q above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? "").split(",")) {
    const [name, ...parameters] = part.trim().toLowerCase().split(";");
    if (name !== "gzip" && name !== "*") continue;
    const q = parameters.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/**
 * Every feature of the page that talks to Scalar's or anyone else's servers, turned off:
 * "Ask AI" (its agent uploads the API description), MCP, the developer tools ("Generate
 * SDKs & MCP", share, deploy: Scalar's registry and dashboard), "Open API Client" (Scalar's
 * hosted client) and usage telemetry. No request proxy is set, so "Test Request" calls this
 * service directly. The "Powered by Scalar" link is hidden by style; it has no option of its own.
 */
const KEEP_AT_HOME = {
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  hideClientButton: true,
  telemetry: false,
  customCss: 'a[href^="https://scalar.com"] { display: none !important; }',
} as const;

// With the script served here, the browser itself holds the page to this origin: a feature
// the options above missed cannot reach out either. Scalar's page needs its inline
// configuration script and inline styles.
const PAGE_POLICY =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function referencePageRoutes(script: ReferenceScript | undefined) {
  const app = new Hono();
  if (script) {
    app.use("/docs", async (c, next) => {
      await next();
      c.header("Content-Security-Policy", PAGE_POLICY);
      c.header("Referrer-Policy", "no-referrer");
    });
  }
  app.get(
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
      ...KEEP_AT_HOME,
    }),
  );
  if (script) {
    app.get(script.path, (c) => {
      const headers = {
        "Content-Type": "text/javascript; charset=utf-8",
        "Cache-Control": "public, max-age=31536000, immutable",
        Vary: "Accept-Encoding",
      };
      if (script.gzipped && acceptsGzip(c.req.header("Accept-Encoding"))) {
        return c.body(script.gzipped, 200, { ...headers, "Content-Encoding": "gzip" });
      }
      return c.body(script.body, 200, headers);
    });
  }
  return app;
}
