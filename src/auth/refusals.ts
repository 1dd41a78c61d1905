// Refusals cost nothing: failed authentications (401) and missing scopes (403) are counted
// per client address (an IPv6 one by its /64) in token buckets (REFUSAL_LIMIT_PER_SECOND, REFUSAL_LIMIT_BURST).
// Past the limit a refusal is a 429 with Retry-After, and while an address is over it, only
// keys this instance has already verified are checked: an unknown key id costs no database
// lookup. A valid key sent from a busy address therefore keeps working.
import { limitKey } from "../http/client-address.ts";
import type { AppError } from "../http/errors.ts";
import { rateLimited, type TokenBuckets } from "./rate-limit.ts";

export class RefusalLimiter {
  constructor(private readonly buckets: TokenBuckets) {}

  /** Whether `address` has no refusals left: then no key may cost a database lookup. */
  isOver(address: string): boolean {
    return this.buckets.wait(limitKey(address)) > 0;
  }

  /** What to answer instead of `refusal`: itself while the address has refusals left, else 429. */
  refuse(address: string, refusal: AppError): AppError {
    const wait = this.buckets.take(limitKey(address));
    if (wait === 0) return refusal;
    return rateLimited(wait, `too many refused requests from this address (last: ${refusal.code}); slow down`);
  }
}
