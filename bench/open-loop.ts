// The built-in open-loop generator: requests leave at fixed times (a constant rate),
// whether or not earlier ones were answered, the way 20,000 devices report on their own
// clocks. Latency is measured from each request's *scheduled* send time, so a server (or
// generator) that falls behind shows up in the percentiles instead of silently lowering
// the rate: the "coordinated omission" a closed loop would hide.
import { type Answer, createLoadRecorder, type LoadResult } from "./load-result.ts";

/** Sends request number `n` (0, 1, 2, ...) and reports what the service answered. */
export type SendScheduled = (n: number) => Promise<Answer>;

export async function runOpenLoop(ratePerSecond: number, durationMs: number, send: SendScheduled): Promise<LoadResult> {
  const intervalMs = 1000 / ratePerSecond;
  const total = Math.floor((durationMs / 1000) * ratePerSecond);
  const recorder = createLoadRecorder();
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  let lastAnswer = start;

  const sendAt = (n: number, scheduledAt: number) => {
    const request = send(n)
      .then((answer) => {
        lastAnswer = performance.now();
        recorder.recordAnswer(answer, lastAnswer - scheduledAt);
      })
      .catch(() => recorder.recordUnanswered())
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  for (let n = 0; n < total; ) {
    // Send everything that is due (after a late timer wake-up that may be several), then
    // sleep until the next scheduled time.
    const now = performance.now();
    while (n < total && start + n * intervalMs <= now) {
      sendAt(n, start + n * intervalMs);
      n += 1;
    }
    if (n < total) await Bun.sleep(Math.max(0, start + n * intervalMs - performance.now()));
  }
  await Promise.all(inFlight);
  // The schedule spans the whole duration even when the last answer comes a little early.
  return recorder.finish(Math.max(lastAnswer - start, durationMs) / 1000);
}
