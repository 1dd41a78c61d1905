// Token buckets, one per API key (or per client address when the service runs open):
// RATE_LIMIT_PER_SECOND tokens flow in, at most RATE_LIMIT_BURST are kept, a request takes
// one (a whole batch is one request), and an empty bucket answers 429 with the seconds
// until the next token in Retry-After.
import type { MiddlewareHandler } from "hono";
import { AppError } from "../http/errors.ts";

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const MAX_BUCKETS = 100_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes a token for `key`; answers 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);
    bucket.updatedAt = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetFull(now);
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.perSecond;
  }

  // A full bucket is the same as no bucket: dropping those keeps memory bounded however
  // many addresses come and go.
  private forgetFull(now: number) {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
  }
}

export interface ClientEnv {
  /** The peer's address, given by the server that runs the app. */
  clientAddress?: string;
}

export function rateLimit(buckets: TokenBuckets): MiddlewareHandler<{ Bindings: ClientEnv }> {
  return async (c, next) => {
    const key = c.get("principal")?.keyId ?? `address:${c.env?.clientAddress ?? "unknown"}`;
    const wait = buckets.take(key);
    if (wait > 0) {
      throw new AppError(429, "rate_limited", "too many requests; slow down", undefined, {
        "Retry-After": String(Math.max(1, Math.ceil(wait))),
      });
    }
    await next();
  };
}
