// HEAD answers as GET would, without the body. Hono runs the GET route for a HEAD request
// and drops the body, so without this the length a client sees is 0; here the GET body is
// measured and its length kept in Content-Length, as RFC 9110 asks.
import type { MiddlewareHandler } from "hono";

export const answerHeadLikeGet: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.req.method !== "HEAD" || !c.res.body || c.res.headers.has("content-length")) return;
  const { status } = c.res;
  const headers = new Headers(c.res.headers);
  headers.set("Content-Length", String((await c.res.arrayBuffer()).byteLength));
  c.res = new Response(null, { status, headers });
};
