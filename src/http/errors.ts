// The one error shape, {"error":{"code","message","details"?}}, and the one place that
// turns any thrown value into it. Expected failures are AppErrors; a database that cannot
// be reached is a 503 the client may retry; anything else is a logged 500 with no detail.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

declare module "hono" {
  interface ContextVariableMap {
    /** The code of the error this request was answered with, for the access log. */
    errorCode: string | undefined;
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (message: string) => new AppError(404, "not_found", message);

export const databaseUnavailable = () =>
  new AppError(503, "database_unavailable", "the database is unavailable; retry shortly", undefined, {
    "Retry-After": "5",
  });

// Connection-level failures from postgres.js and server states that mean "not now"
// (admin shutdown, starting up, too many connections): safe to answer with a retry hint.
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  // Drizzle wraps the driver's error in its own, as `cause`.
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("08"))) return true;
    current = cause;
  }
  return false;
}

/** 57014 query_canceled: a statement_timeout ran out (or an operator cancelled the query). */
export function isQueryTimeout(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (code === "57014") return true;
    current = cause;
  }
  return false;
}

// 503 rather than 504: the service is not a gateway, and the cure is the same as for a
// busy database (retry later, or ask for a shorter window).
export const queryTimeout = () =>
  new AppError(
    503,
    "query_timeout",
    "the query took longer than this service allows; retry later or ask for a shorter window",
    undefined,
    { "Retry-After": "5" },
  );

export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) return databaseUnavailable();
  if (isQueryTimeout(error)) return queryTimeout();
  if (error instanceof HTTPException) {
    if (error.status === 413) return new AppError(413, "payload_too_large", "request body is too large");
    if (error.status === 400) return new AppError(400, "malformed_json", "request body is not valid JSON");
    return new AppError(error.status as ContentfulStatusCode, "http_error", error.message || "request failed");
  }
  return undefined;
}

export function errorResponse(c: Context, error: AppError) {
  c.set("errorCode", error.code);
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details;
  return c.json(body, error.status, error.headers);
}
