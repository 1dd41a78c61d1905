// How long request work may wait for a database connection. postgres.js queues a query
// that finds every connection taken and never gives up on it, so a pool held by slow work
// (long uploads, a stuck statement) would leave requests waiting until the HTTP server cut
// their sockets. A gate of as many permits as the pool has connections stands in front
// of it: work takes a permit before it touches the pool, and a request that cannot get
// one within the bound is answered 503 + Retry-After instead.
import { Semaphore, type SemaphoreInterface, withTimeout } from "async-mutex";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../http/errors.ts";

export const databaseBusy = (waitedMs: number) =>
  new AppError(
    503,
    "database_busy",
    `no database connection came free within ${waitedMs} ms; retry shortly`,
    undefined,
    { "Retry-After": "1" },
  );

export class PoolGate {
  private readonly semaphore: Semaphore;
  private readonly bounded: SemaphoreInterface;
  private waiters = 0;

  constructor(
    /** Work that may hold a connection at once: the pool's size, less what runs outside the gate. */
    readonly permits: number,
    /** How long work waits for a permit before its request gets 503 database_busy. */
    readonly waitMs: number,
  ) {
    this.semaphore = new Semaphore(Math.max(1, permits));
    this.bounded = withTimeout(this.semaphore, waitMs, databaseBusy(waitMs));
  }

  /** Runs `work` holding a permit; throws databaseBusy when none comes free in time. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.waiters++;
    let isHolding = false;
    try {
      return await this.bounded.runExclusive(() => {
        this.waiters--;
        isHolding = true;
        return work();
      });
    } finally {
      if (!isHolding) this.waiters--;
    }
  }

  /** Permits free right now. */
  get available(): number {
    return Math.max(0, this.semaphore.getValue());
  }

  /** Work waiting for a permit right now. */
  get waiting(): number {
    return this.waiters;
  }
}

/** Holds a permit of `gate` for the whole request, when there is a gate. */
export const holdPermit =
  (gate: PoolGate | undefined): MiddlewareHandler =>
  async (_, next) => {
    if (!gate) return next();
    await gate.run(() => next());
  };
