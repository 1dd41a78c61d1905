// The dashboard's three files, served as given: GET / is the page, /dashboard/<name> its
// script and style sheet. Their names carry a hash of their content, so they are cached
// for good and a new version is a new name; the page itself is always revalidated. The
// files are read or bundled by whoever starts the app (bundle.ts under Bun), so this
// module, like createApp, needs nothing but fetch.
import { Hono } from "hono";
import { errorResponse, notFound } from "../http/errors.ts";

export interface DashboardAssets {
  /** The page, already pointing at the script and style sheet below by name. */
  html: string;
  /** By file name (e.g. app.3f2a.js): body and content type. */
  files: Record<string, { body: string; contentType: string }>;
}

// The page talks to its own origin only; scripts and styles come from files, never inline.
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function dashboardRoutes(assets: DashboardAssets) {
  return new Hono()
    .get("/", (c) =>
      c.html(assets.html, 200, {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": PAGE_POLICY,
        // frame-ancestors above says it to current browsers, this to older ones.
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
      }),
    )
    .get("/dashboard/:file", (c) => {
      const name = c.req.param("file");
      // Own names only: "constructor" or "__proto__" must not find Object.prototype's members.
      const file = Object.hasOwn(assets.files, name) ? assets.files[name] : undefined;
      if (!file) return errorResponse(c, notFound(`no dashboard file ${name}`));
      return c.body(file.body, 200, {
        "Content-Type": file.contentType,
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
      });
    });
}
