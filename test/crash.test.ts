// The database SIGKILLed mid-load: 503s during the outage, recovery by itself, and no acknowledged reading lost.
// A PostgreSQL of this file's own (test/support/crash-cluster.ts) takes concurrent single readings, JSON
// batches and NDJSON uploads through the app wired as production wires it; its postmaster is then
// SIGKILLed, load continues through the outage, and the server is restarted on the same data directory
// (stale postmaster.pid included). The service must answer 503 + Retry-After during the outage (never a
// 2xx, a 500 or a hang), recover by itself once the server is back, and have lost nothing it acknowledged:
// docs/design.md's invariant 1 ("nothing is acknowledged that a crash right after could lose"), 2 (a 503'd
// reading retried is stored once) and 3 (hot state = newest history).
import { afterAll, describe, expect, it } from "bun:test";
import { CrashCluster, HANG_MS } from "./support/crash-cluster.ts";
import {
  type Attempt,
  is2xx,
  keyOf,
  Ledger,
  type Load,
  readingKey,
  type Send,
  startLoad,
} from "./support/crash-ledger.ts";

const NOW = new Date("2026-03-15T12:00:00Z");
const BASE = Date.parse("2026-03-14T00:00:00Z"); // every reading is in the past of the clock
const LOOPS = 16;
const RETRYABLE_CODES = ["database_unavailable", "write_failed", "overloaded"];

const crashCluster = new CrashCluster({ now: NOW, since: new Date(BASE) });
afterAll(() => crashCluster.tearDown(), 30_000);

describe("the database killed mid-load", () => {
  it("answers 503 during the outage, recovers by itself, and loses no acknowledged reading", async () => {
    await crashCluster.run(crashAndRecover);
  }, 120_000);
});

/** When each phase happened (performance.now()), to judge each answer by when it was asked and given. */
interface Timeline {
  killedAt: number;
  /** The killed server's last process had exited: from here on nothing can commit. */
  goneAt: number;
  restartBeganAt: number;
  restartedAt: number;
  /** The first write acknowledged after the restart. */
  recoveredAt: number;
  /** /readyz answering 200 after the restart. */
  readyAt: number;
}

async function crashAndRecover(cluster: CrashCluster) {
  // Start the cluster, then load: 16 loops, each with devices of its own, one reading a second each.
  await cluster.start();
  const ledger = new Ledger();
  const load = startLoad(ledger, {
    loops: LOOPS,
    base: BASE,
    post: (send, isRetry) => cluster.post(send, isRetry),
    isTornDown: () => cluster.isTornDown,
  });
  try {
    await cluster.until("200 writes acknowledged before the crash", 30_000, () =>
      ledger.acked() >= 200 ? true : undefined,
    );
    const { ackedBeforeKill, killedAt, goneAt } = await killPostmaster(cluster, ledger);
    const { readyDuringOutage } = await outage(cluster);
    const restartBeganAt = performance.now();
    if (cluster.isTornDown) return;
    await cluster.restart();
    const restartedAt = performance.now();
    const { recoveredAt, readyAt } = await recover(cluster, ledger, load, restartedAt);
    const timeline = { killedAt, goneAt, restartBeganAt, restartedAt, recoveredAt, readyAt };
    await verify(cluster, ledger, timeline, { ackedBeforeKill, readyDuringOutage: await readyDuringOutage });
  } finally {
    await load.stop();
  }
}

/** Kills the postmaster (SIGKILL: no shutdown, no checkpoint) and waits for its backends to follow. */
async function killPostmaster(cluster: CrashCluster, ledger: Ledger) {
  const postmasterPid = cluster.postmasterPid();
  expect(postmasterPid).toBeGreaterThan(0);
  const ackedBeforeKill = ledger.acked();
  const killedAt = performance.now();
  process.kill(postmasterPid, "SIGKILL");
  // Its backends notice the postmaster's death and exit on their own; from then on
  // nothing can commit, so every answer must be a 503.
  const goneAt = await cluster.until("the killed server's processes exit", 15_000, () =>
    cluster.processes().length === 0 ? performance.now() : undefined,
  );
  expect(cluster.hasPidFile()).toBe(true); // the stale lock file stays behind
  return { ackedBeforeKill, killedAt, goneAt };
}

/** A while of outage under load (the outage's length, not a wait for something); /readyz asked at its start. */
async function outage(cluster: CrashCluster) {
  const readyDuringOutage = cluster.readyz();
  await Bun.sleep(2_000);
  return { readyDuringOutage };
}

/**
 * After the restart on the same data directory, the same app and pool recover by themselves: measured
 * here, judged in verify. Then the load stops, and requests a client gave up on, which may still be
 * working on the server, end before anyone looks at what was stored.
 */
async function recover(cluster: CrashCluster, ledger: Ledger, load: Load, restartedAt: number) {
  const recoveredAt = await cluster.until("a write acknowledged after the restart", 30_000, () =>
    ledger.sends.some((s) => s.attempts.some((a) => is2xx(a.status) && a.endedAt >= restartedAt))
      ? performance.now()
      : undefined,
  );
  const readyAt = await cluster.until("/readyz answering 200 after the restart", 30_000, async () =>
    (await cluster.readyz()) === 200 ? performance.now() : undefined,
  );
  const ackedAtReady = ledger.acked();
  await cluster.until("writes flowing again after the restart", 30_000, () =>
    ledger.acked() >= ackedAtReady + 200 ? true : undefined,
  );
  await load.stop();
  await cluster.until("requests still running on the server to end", 30_000, () =>
    cluster.isIdle() ? true : undefined,
  );
  return { recoveredAt, readyAt };
}

/** The answers under load (every attempt so far, before any retry): 2xx in full, or 503 as promised. */
function judgeAnswers(ledger: Ledger, { killedAt, goneAt, restartBeganAt }: Timeline) {
  const all = ledger.sends.flatMap((send) => send.attempts.map((a) => ({ send, a })));
  const breaches: string[] = [];
  const show = ({ send, a }: { send: Send; a: Attempt }) =>
    `${send.format} at +${Math.round(a.startedAt - killedAt)} ms (${Math.round(a.endedAt - a.startedAt)} ms): ${a.status} ${a.text.slice(0, 300)}`;
  for (const entry of all) {
    const { send, a } = entry;
    if (is2xx(a.status)) {
      const stored = send.format === "single" ? 1 : a.body?.stored;
      const isRightAnswer =
        send.format === "single"
          ? a.status === 201 && a.body?.status === "stored"
          : a.status === 201 && stored === send.readings.length && a.body?.duplicates === 0;
      if (!isRightAnswer) breaches.push(`a first attempt not answered "stored" in full: ${show(entry)}`);
      if (a.startedAt >= goneAt && a.endedAt <= restartBeganAt)
        breaches.push(`a 2xx while the database was down: ${show(entry)}`);
    } else if (a.status === "timeout") {
      breaches.push(`no answer within ${HANG_MS} ms (a hang): ${show(entry)}`);
    } else if (a.status !== 503) {
      breaches.push(`neither 2xx nor 503: ${show(entry)}`);
    } else {
      if (!a.retryAfter) breaches.push(`a 503 without Retry-After: ${show(entry)}`);
      if (!RETRYABLE_CODES.includes(a.body?.error?.code)) breaches.push(`a 503 with an odd code: ${show(entry)}`);
    }
  }
  const refusedInOutage = all.filter(({ a }) => a.startedAt >= goneAt && a.endedAt <= restartBeganAt);
  const slowest = Math.max(...all.map(({ a }) => a.endedAt - a.startedAt));
  return { breaches, refusedInOutage, slowest };
}

/** Retries every send that got no 2xx until it does: each must be stored once and answered truthfully. */
async function retryUnacknowledged(cluster: CrashCluster, unacked: Send[], afterCrash: Set<string>) {
  const retryBreaches: string[] = [];
  const queue = [...unacked];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let send = queue.shift(); send; send = queue.shift()) {
        const deadline = performance.now() + 10_000;
        let result = await cluster.post(send, true);
        send.attempts.push(result);
        while (result.status === 503 && performance.now() < deadline) {
          await Bun.sleep(100);
          result = await cluster.post(send, true);
          send.attempts.push(result);
        }
        if (!is2xx(result.status)) {
          retryBreaches.push(`a retry after recovery not answered 2xx: ${result.status} ${result.text}`);
          continue;
        }
        send.ack = result;
        const already = send.readings.filter((r) => afterCrash.has(readingKey(r))).length;
        const fresh = send.readings.length - already;
        const isTruthful =
          send.format === "single"
            ? result.status === (fresh ? 201 : 200) && result.body?.status === (fresh ? "stored" : "duplicate")
            : result.status === (fresh ? 201 : 200) &&
              result.body?.stored === fresh &&
              result.body?.duplicates === already;
        if (!isTruthful)
          retryBreaches.push(
            `a retry answered ${result.status} ${result.text} for ${fresh} new and ${already} stored readings`,
          );
      }
    }),
  );
  return retryBreaches;
}

async function verify(
  cluster: CrashCluster,
  ledger: Ledger,
  timeline: Timeline,
  { ackedBeforeKill, readyDuringOutage }: { ackedBeforeKill: number; readyDuringOutage: number },
) {
  const { killedAt, goneAt, restartBeganAt, restartedAt, recoveredAt, readyAt } = timeline;
  const { breaches, refusedInOutage, slowest } = judgeAnswers(ledger, timeline);

  // What the crash left in the cold store, before any retry.
  const afterCrash = await cluster.coldKeys();
  const afterCrashSet = new Set(afterCrash);
  const sentKeys = ledger.sentKeys();
  const lost = [...ledger.ackedKeys()].filter((key) => !afterCrashSet.has(key));
  const phantoms = afterCrash.filter((key) => !sentKeys.has(key));
  const unacked = ledger.unacked();
  const committedUnacked = unacked
    .flatMap((s) => s.readings.map(readingKey))
    .filter((key) => afterCrashSet.has(key)).length;

  const retryBreaches = await retryUnacknowledged(cluster, unacked, afterCrashSet);

  // The end state: each reading once, as sent; hot = newest cold.
  const final = await cluster.coldKeys();
  const finalCounts = new Map<string, number>();
  for (const key of final) finalCounts.set(key, (finalCounts.get(key) ?? 0) + 1);
  const storedTwice = [...finalCounts].filter(([, count]) => count > 1).map(([key]) => key);
  const missing = [...sentKeys].filter((key) => !finalCounts.has(key));
  const storedAnswers = ledger.storedAnswers();
  const sentReadings = ledger.sentReadings();
  const changed: string[] = [];
  for (const row of await cluster.coldRows()) {
    const sent = sentReadings.get(keyOf(row.device, row.at));
    const values = "c" in row ? [row.a, row.b, row.c] : [row.a, row.b];
    if (sent && JSON.stringify(sent.values) !== JSON.stringify(values))
      changed.push(`${keyOf(row.device, row.at)}: sent ${sent.values}, stored ${values}`);
  }
  const hotMismatches = await cluster.hotMismatches();
  const hotDevices = await cluster.hotDevices();

  const summary = {
    sends: ledger.sends.length,
    readings: sentKeys.size,
    ackedBeforeKill,
    refusedDuringOutage: refusedInOutage.length,
    unackedUnderLoad: unacked.length,
    committedUnacked,
    orphansGoneMs: Math.round(goneAt - killedAt),
    restartMs: Math.round(restartedAt - restartBeganAt),
    recoveredMsAfterRestart: Math.round(recoveredAt - restartedAt),
    readyMsAfterRestart: Math.round(readyAt - restartedAt),
    slowestRequestMs: Math.round(slowest),
  };
  console.log("crash test:", JSON.stringify(summary));

  // Every problem at once, so one run tells the whole story.
  const problems = [
    ...breaches.slice(0, 10),
    ...(breaches.length > 10 ? [`... and ${breaches.length - 10} more such answers`] : []),
    ...cluster.live.unexpected.map((error) => `an error reached the 500 path: ${(error as Error)?.stack ?? error}`),
    ...(refusedInOutage.length === 0 ? ["no request was answered during the outage"] : []),
    ...(readyDuringOutage === 503 ? [] : [`/readyz answered ${readyDuringOutage} during the outage`]),
    ...(slowest < HANG_MS ? [] : [`a request took ${Math.round(slowest)} ms`]),
    ...(recoveredAt - restartedAt < 5_000
      ? []
      : [`the first write succeeded ${Math.round(recoveredAt - restartedAt)} ms after the database was back`]),
    ...(readyAt - restartedAt < 5_000
      ? []
      : [`/readyz answered 200 only ${Math.round(readyAt - restartedAt)} ms after the database was back`]),
    ...lost.slice(0, 10).map((key) => `acknowledged but not stored after the crash: ${key}`),
    ...phantoms.slice(0, 10).map((key) => `stored but never sent: ${key}`),
    ...retryBreaches.slice(0, 10),
    ...storedTwice.slice(0, 10).map((key) => `stored twice: ${key}`),
    ...missing.slice(0, 10).map((key) => `never stored, even after retries: ${key}`),
    ...(final.length === sentKeys.size ? [] : [`${final.length} rows for ${sentKeys.size} distinct readings`]),
    // Every row was acknowledged "stored" exactly once, or was committed without an
    // answer (a 503, a client that gave up) and recognised as a duplicate when retried.
    ...(storedAnswers + committedUnacked === final.length
      ? []
      : [`${storedAnswers} "stored" answers + ${committedUnacked} unanswered commits != ${final.length} rows`]),
    ...changed.slice(0, 10).map((row) => `stored values differ from those sent: ${row}`),
    ...hotMismatches.map((row) => `hot state is not the newest history: ${JSON.stringify(row)}`),
    ...(hotDevices === LOOPS * 2 ? [] : [`${hotDevices} hot rows for ${LOOPS * 2} devices`]),
  ];
  expect(problems).toEqual([]);
}
