// Per-request context: a request id (taken from X-Request-Id when the client sends a sane
// one, else made up) echoed in the response header and on every log line of the request,
// an access log, and the request-duration metric. Successful requests log at debug only:
// at info level a fleet's 28.8 M readings a day would be 28.8 M log lines. Refusals log at
// info, sampled per reason (log-sampler.ts) unless debug is on.
import type { Context, MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import { routePath } from "hono/route";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogSampler } from "./log-sampler.ts";

export const assignRequestId = requestId();

/** A logger whose every line carries the request's id. */
export const requestLogger = (log: Logger, c: Context) => log.child({ requestId: c.get("requestId") });

/** The route the request matched, as registered ("/v1/mappings/:vehicleId/:meterId"), or "unmatched". */
export function matchedRoute(c: Context): string {
  const matched = routePath(c, -1);
  return matched === "*" || matched === "/*" || matched === "" ? "unmatched" : matched;
}

export function requestContext(log: Logger, metrics?: Metrics, refusals?: LogSampler): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    const route = matchedRoute(c);
    metrics?.httpDuration.observe({ method: c.req.method, route, status: String(status) }, seconds);
    // Built only when a line will be written: most requests log nothing at info level.
    const level = status >= 500 ? "error" : status >= 400 ? "info" : "debug";
    if (!log.isLevelEnabled(level)) return;
    const code = c.get("errorCode");
    let suppressed = 0;
    if (level === "info" && refusals && !log.isLevelEnabled("debug")) {
      const admitted = refusals.admit(`${status} ${code}`);
      if (!admitted) return;
      suppressed = admitted.suppressed;
    }
    const entry = {
      method: c.req.method,
      path: c.req.path,
      route,
      status,
      code,
      clientAddress: c.get("clientAddress"),
      ms: Math.round(seconds * 1e4) / 10,
      ...(suppressed > 0 && { suppressed }),
    };
    const message = status >= 500 ? "request failed" : status >= 400 ? "request refused" : "request";
    requestLogger(log, c)[level](entry, message);
  };
}
