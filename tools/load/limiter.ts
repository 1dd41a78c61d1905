// A counting semaphore: at most `max` requests in flight. The producer waits for a slot
// before it even builds the next request, which is the backpressure that keeps a fast
// generator from queueing a million pending fetches in memory.

export interface Limiter {
  /** Resolves when a slot is free; the caller must release it exactly once. */
  acquire(): Promise<void>;
  release(): void;
  /** Resolves when every acquired slot has been released. */
  whenIdle(): Promise<void>;
}

export function createLimiter(max: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  let idleWaiters: (() => void)[] = [];
  return {
    acquire() {
      if (active < max) {
        active++;
        return Promise.resolve();
      }
      // The slot is handed over by release(), so `active` does not change here.
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      if (next) return next();
      active--;
      if (active === 0) {
        for (const resolve of idleWaiters) resolve();
        idleWaiters = [];
      }
    },
    whenIdle() {
      if (active === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}

/**
 * Runs `task` in a slot without waiting for it to finish: waits only for the slot. A task
 * that throws is a defect of the tool, reported through onError rather than lost.
 */
export async function launchLimited(
  limiter: Limiter,
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): Promise<void> {
  await limiter.acquire();
  task()
    .catch(onError)
    .finally(() => limiter.release());
}
