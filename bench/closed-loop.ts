// The built-in closed-loop generator: N clients, each sending its next request as soon as
// the previous one is answered, for a fixed time. Used for batches (always) and for single
// readings when wrk is not available. Unlike wrk it never abandons a request: at the
// deadline the clients stop sending and wait for their answers, so every write is counted.
import type { LoadResult } from "./load-result.ts";
import { computePercentile, sortSamples } from "./percentiles.ts";

export interface Answer {
  status: number;
  readingsStored: number;
  readingsDuplicate: number;
}

/** Sends request number `n` of client `client` and reports what the service answered. */
export type SendRequest = (client: number, n: number) => Promise<Answer>;

export async function runClosedLoop(clients: number, durationMs: number, send: SendRequest): Promise<LoadResult> {
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let readingsStored = 0;
  let readingsDuplicate = 0;
  let requests2xx = 0;
  let unanswered = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  let lastAnswer = start;

  const runClient = async (client: number) => {
    for (let n = 0; performance.now() < deadline; n++) {
      const sentAt = performance.now();
      try {
        const answer = await send(client, n);
        lastAnswer = performance.now();
        latencies.push(lastAnswer - sentAt);
        statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1;
        if (answer.status >= 200 && answer.status < 300) {
          requests2xx += 1;
          readingsStored += answer.readingsStored;
          readingsDuplicate += answer.readingsDuplicate;
        }
      } catch {
        // No HTTP answer (connection refused or reset): its fate in the database is unknown.
        unanswered += 1;
        await Bun.sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, client) => runClient(client)));

  const sorted = sortSamples(latencies);
  return {
    seconds: (lastAnswer - start) / 1000,
    requests2xx,
    readingsStored,
    readingsDuplicate,
    statusCounts,
    unanswered,
    p50Ms: computePercentile(sorted, 50),
    p99Ms: computePercentile(sorted, 99),
  };
}

/** POSTs a JSON body and reads the answer: a single reading's status, or a batch's counts. */
export async function postJson(
  url: string,
  body: string,
  readingsInBody: number,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body,
  });
  const text = await response.text();
  if (response.status < 200 || response.status >= 300)
    return { status: response.status, readingsStored: 0, readingsDuplicate: 0 };
  if (readingsInBody === 1) {
    const isStored = response.status === 201;
    return { status: response.status, readingsStored: isStored ? 1 : 0, readingsDuplicate: isStored ? 0 : 1 };
  }
  const counts = JSON.parse(text) as { stored?: number; duplicates?: number };
  return { status: response.status, readingsStored: counts.stored ?? 0, readingsDuplicate: counts.duplicates ?? 0 };
}
