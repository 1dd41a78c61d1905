// The built-in closed-loop generator: N clients, each sending its next request as soon as
// the previous one is answered, for a fixed time. Used for batches (always) and for single
// readings when wrk is not available. Unlike wrk it never abandons a request: at the
// deadline the clients stop sending and wait for their answers, so every write is counted.
import { type Answer, createLoadRecorder, type LoadResult } from "./load-result.ts";

/** Sends request number `n` of client `client` and reports what the service answered. */
export type SendRequest = (client: number, n: number) => Promise<Answer>;

export async function runClosedLoop(clients: number, durationMs: number, send: SendRequest): Promise<LoadResult> {
  const recorder = createLoadRecorder();
  const start = performance.now();
  const deadline = start + durationMs;
  let lastAnswer = start;

  const runClient = async (client: number) => {
    for (let n = 0; performance.now() < deadline; n++) {
      const sentAt = performance.now();
      try {
        const answer = await send(client, n);
        lastAnswer = performance.now();
        recorder.recordAnswer(answer, lastAnswer - sentAt);
      } catch {
        recorder.recordUnanswered();
        await Bun.sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, client) => runClient(client)));
  return recorder.finish((lastAnswer - start) / 1000);
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
