// Refusal log lines, aggregated: at most one line per reason (status and error code) per
// interval, carrying how many like it went unwritten since the previous one. A client
// hammering the API with bad keys then costs a line every few seconds, not one per request;
// the counts stay exact in http_request_duration_seconds_count.
interface Reason {
  loggedAt: number;
  suppressed: number;
}

// Reasons are a status and a code from this codebase, a few dozen at most; the bound is a
// guard, not a policy.
const MAX_REASONS = 1_000;

export class LogSampler {
  private readonly reasons = new Map<string, Reason>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether to write a line for `reason` now: undefined if not, else how many were skipped since the last. */
  admit(reason: string): { suppressed: number } | undefined {
    const now = this.now();
    const known = this.reasons.get(reason);
    if (known && now - known.loggedAt < this.intervalMs) {
      known.suppressed += 1;
      return undefined;
    }
    if (!known && this.reasons.size >= MAX_REASONS) this.reasons.clear();
    this.reasons.set(reason, { loggedAt: now, suppressed: 0 });
    return { suppressed: known?.suppressed ?? 0 };
  }
}
