// Who may read /metrics. Open by default, like /healthz, for a Prometheus inside the
// network; with METRICS_TOKEN set, a scrape must send `Authorization: Bearer <token>`,
// since the figures show business volume (readings, backlog) to whoever can reach them.
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import { AppError } from "../http/errors.ts";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function requireMetricsToken(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token) {
      const sent = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
      if (!sent || !(await timingSafeEqual(sent, token))) {
        throw new AppError(401, "unauthorized", "/metrics needs Authorization: Bearer <METRICS_TOKEN>", undefined, {
          "WWW-Authenticate": 'Bearer realm="fleet-telemetry-metrics"',
        });
      }
    }
    await next();
  };
}
