// What one load phase (a warm-up or a measured run) produced, whichever generator drove
// it, how the built-in generators record it answer by answer, and the running tally of
// writes the correctness check compares with the database.
import { computePercentile, sortSamples } from "./percentiles.ts";

/** What the service answered one request of a built-in generator. */
export interface Answer {
  status: number;
  readingsStored: number;
  readingsDuplicate: number;
}

export interface LoadResult {
  /** Seconds from the first request sent to the last answer received. */
  seconds: number;
  /** Requests answered with any 2xx. */
  requests2xx: number;
  /** Readings the service said it stored (201 on singles, `stored` of a batch answer). */
  readingsStored: number;
  /** Readings the service said were replays (200 duplicate); all readings are new, so 0. */
  readingsDuplicate: number;
  /** Answers by status code, e.g. { "201": 1234, "503": 2 }. */
  statusCounts: Record<string, number>;
  /** Requests that got no HTTP answer: socket errors, or still in flight when cut off. */
  unanswered: number;
  /** Latency percentiles of the answered requests, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
}

/** Counts a phase's answers and keeps every latency, for the closed and the open loop alike. */
export interface LoadRecorder {
  recordAnswer(answer: Answer, latencyMs: number): void;
  /** A request without an HTTP answer (connection refused or reset): its fate is unknown. */
  recordUnanswered(): void;
  finish(seconds: number): LoadResult;
}

export function createLoadRecorder(): LoadRecorder {
  const latencies: number[] = [];
  const result = {
    requests2xx: 0,
    readingsStored: 0,
    readingsDuplicate: 0,
    statusCounts: {} as Record<string, number>,
    unanswered: 0,
  };
  return {
    recordAnswer(answer, latencyMs) {
      latencies.push(latencyMs);
      result.statusCounts[answer.status] = (result.statusCounts[answer.status] ?? 0) + 1;
      if (answer.status >= 200 && answer.status < 300) {
        result.requests2xx += 1;
        result.readingsStored += answer.readingsStored;
        result.readingsDuplicate += answer.readingsDuplicate;
      }
    },
    recordUnanswered() {
      result.unanswered += 1;
    },
    finish(seconds) {
      const sorted = sortSamples(latencies);
      return { seconds, ...result, p50Ms: computePercentile(sorted, 50), p99Ms: computePercentile(sorted, 99) };
    },
  };
}

export interface WriteTally {
  requests: number;
  requests2xx: number;
  readingsStored: number;
  readingsDuplicate: number;
  non2xx: Record<string, number>;
  unanswered: number;
}

export function createTally(): WriteTally {
  return { requests: 0, requests2xx: 0, readingsStored: 0, readingsDuplicate: 0, non2xx: {}, unanswered: 0 };
}

export function addToTally(tally: WriteTally, result: LoadResult): void {
  tally.requests2xx += result.requests2xx;
  tally.readingsStored += result.readingsStored;
  tally.readingsDuplicate += result.readingsDuplicate;
  tally.unanswered += result.unanswered;
  for (const [status, count] of Object.entries(result.statusCounts)) {
    tally.requests += count;
    if (!status.startsWith("2")) tally.non2xx[status] = (tally.non2xx[status] ?? 0) + count;
  }
  tally.requests += result.unanswered;
}

/** True when some request failed: a non-2xx answer or no answer at all. */
export function hasFailures(tally: WriteTally): boolean {
  return tally.unanswered > 0 || Object.keys(tally.non2xx).length > 0;
}
