// Per-request context: a request id (taken from X-Request-Id when the client sends a sane
// one, else made up) echoed in the response header and on every log line of the request,
// an access log, and the request-duration metric. Successful requests log at debug only:
// at info level a fleet's 28.8 M readings a day would be 28.8 M log lines.
import type { MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import { routePath } from "hono/route";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";

declare module "hono" {
  interface ContextVariableMap {
    log: Logger;
  }
}

export const assignRequestId = requestId();

export function requestContext(log: Logger, metrics?: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const requestLog = log.child({ requestId: c.get("requestId") });
    c.set("log", requestLog);
    await next();
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    const matched = routePath(c, -1);
    const route = matched === "*" || matched === "/*" || matched === "" ? "unmatched" : matched;
    metrics?.httpDuration.observe({ method: c.req.method, route, status: String(status) }, seconds);
    const entry = { method: c.req.method, path: c.req.path, route, status, ms: Math.round(seconds * 1e4) / 10 };
    if (status >= 500) requestLog.error(entry, "request failed");
    else if (status >= 400) requestLog.info(entry, "request refused");
    else requestLog.debug(entry, "request");
  };
}
