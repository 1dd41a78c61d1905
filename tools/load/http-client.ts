// The tool's only way out: JSON over fetch to the one base URL it was given, with bounded
// retries. A 503 (database unavailable) is retried after its Retry-After, a network error
// after a short backoff; replaying a write is safe because the server stores a reading
// once per (device, timestamp). Everything else is answered as it came, for the caller to
// judge. The fetch function is injected, so tests can aim the tool at app.request().

/** The part of fetch the tool needs; `(url, init) => app.request(url, init)` fits too. */
export type FetchLike = (url: string, init: RequestInit) => Response | Promise<Response>;

export type HttpResult =
  | { kind: "response"; status: number; body: unknown }
  | { kind: "network-error"; message: string };

export interface HttpStats {
  /** Attempts sent, retries included. */
  sent: number;
  succeeded: number;
  clientErrors: number;
  serverErrors: number;
  networkErrors: number;
  retries: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** Longest a request may keep retrying, from its first attempt. */
  budgetMs: number;
  /** Longest one attempt may take before it is abandoned (and retried). */
  attemptTimeoutMs: number;
  /** Longest wait honoured from a Retry-After header. */
  maxRetryAfterMs: number;
}

export interface HttpClient {
  request(method: "GET" | "POST", path: string, body?: unknown): Promise<HttpResult>;
  stats: HttpStats;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  budgetMs: 120_000,
  attemptTimeoutMs: 30_000,
  maxRetryAfterMs: 10_000,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry-After in seconds or as an HTTP date, else a second; never more than the cap. */
export function readRetryAfterMs(header: string | null, capMs: number, now = Date.now()): number {
  const fallbackMs = Math.min(capMs, 1000);
  if (!header) return fallbackMs;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(capMs, Math.max(0, ms)) : fallbackMs;
}

export function createHttpClient(
  baseUrl: string,
  fetcher: FetchLike,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  apiKey?: string,
): HttpClient {
  const stats: HttpStats = { sent: 0, succeeded: 0, clientErrors: 0, serverErrors: 0, networkErrors: 0, retries: 0 };
  // Paths are resolved against the base only, so no answer can steer the tool elsewhere.
  const base = new URL(baseUrl);

  async function attempt(method: string, url: string, payload: string | undefined) {
    stats.sent++;
    const response = await fetcher(url, {
      method,
      headers: {
        ...(payload === undefined ? {} : { "content-type": "application/json" }),
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
      body: payload,
      signal: AbortSignal.timeout(policy.attemptTimeoutMs),
    });
    const text = await response.text();
    return { response, body: parseBody(text) };
  }

  async function request(method: "GET" | "POST", path: string, body?: unknown): Promise<HttpResult> {
    const url = new URL(path, base).toString();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const startedAt = Date.now();
    for (let attemptNumber = 1; ; attemptNumber++) {
      const canRetry = attemptNumber < policy.maxAttempts;
      let waitMs: number;
      let result: HttpResult;
      try {
        const { response, body: parsed } = await attempt(method, url, payload);
        result = { kind: "response", status: response.status, body: parsed };
        if (response.status !== 503 || !canRetry) return tally(result);
        waitMs = readRetryAfterMs(response.headers.get("retry-after"), policy.maxRetryAfterMs);
      } catch (error) {
        result = { kind: "network-error", message: error instanceof Error ? error.message : String(error) };
        if (!canRetry) return tally(result);
        waitMs = Math.min(5000, 100 * 2 ** (attemptNumber - 1));
      }
      if (Date.now() + waitMs - startedAt > policy.budgetMs) return tally(result);
      stats.retries++;
      await sleep(waitMs);
    }
  }

  // Only a request's final outcome is counted, so the counters add up to requests made.
  function tally(result: HttpResult): HttpResult {
    if (result.kind === "network-error") stats.networkErrors++;
    else if (result.status < 300) stats.succeeded++;
    else if (result.status < 500) stats.clientErrors++;
    else stats.serverErrors++;
    return result;
  }

  return { request, stats };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Whether the server acknowledged the request (2xx: for a write, committed). */
export function isAcknowledged(result: HttpResult): result is { kind: "response"; status: number; body: unknown } {
  return result.kind === "response" && result.status >= 200 && result.status < 300;
}

/** A one-line account of a failure, for the report. */
export function describeFailure(result: HttpResult): string {
  if (result.kind === "network-error") return `network error: ${result.message}`;
  const text = typeof result.body === "string" ? result.body : JSON.stringify(result.body);
  return `${result.status} ${text.slice(0, 300)}`;
}
