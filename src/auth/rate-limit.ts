// Token buckets, one per API key (or per client address when the service runs open):
// RATE_LIMIT_PER_SECOND tokens flow in, at most RATE_LIMIT_BURST are kept, a request takes
// one (a whole batch is one request), and an empty bucket answers 429 with the seconds
// until the next token in Retry-After.
import type { MiddlewareHandler } from "hono";
import { limitKey } from "../http/client-address.ts";
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
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetFull(now);
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = this.tokensAt(bucket, now);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.perSecond;
  }

  /** The seconds until `key` has a token, taking none: 0 when it has one now. */
  wait(key: string): number {
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.tokensAt(bucket, this.now()) : this.burst;
    return tokens >= 1 ? 0 : (1 - tokens) / this.perSecond;
  }

  private tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);
  }

  // A full bucket is the same as no bucket: dropping those keeps memory bounded however
  // many addresses come and go.
  private forgetFull(now: number) {
    for (const [key, bucket] of this.buckets) {
      if (this.tokensAt(bucket, now) >= this.burst) this.buckets.delete(key);
    }
  }
}

/** The 429 for an empty bucket, in the one error shape, with the whole seconds to wait. */
export const rateLimited = (waitSeconds: number, message = "too many requests; slow down") =>
  new AppError(429, "rate_limited", message, undefined, {
    "Retry-After": String(Math.max(1, Math.ceil(waitSeconds))),
  });

export function rateLimit(buckets: TokenBuckets): MiddlewareHandler {
  return async (c, next) => {
    const key = c.get("principal")?.keyId ?? `address:${limitKey(c.get("clientAddress"))}`;
    const wait = buckets.take(key);
    if (wait > 0) throw rateLimited(wait);
    await next();
  };
}
