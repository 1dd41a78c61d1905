// What keeps an aggregator run linear and bounded in time: the settings its statements run
// under, and the cancelling of a statement in flight when the aggregator stops.
//
// - `enable_nestloop = off`. A run claims pending rows by joining the pending table to a
//   limited scan of itself. With the statistics PostgreSQL had when it planned it, a nested
//   loop looks cheapest, and it is quadratic: 600,000 pending rows kept a run busy for
//   10 minutes. Those statistics can be wrong whatever the plan cache does: the
//   aggregator's own vacuum, run while a large upload is still uncommitted, records the
//   upload's pages with almost no live rows, so even a fresh plan expects a few rows. Without
//   nested loops the claim is a hash (or merge) join, linear in what it reads at any
//   size and with any statistics; the rest of a run has no join.
// - `statement_timeout`: a statement that sticks anyway fails; its run rolls back, and the
//   holder gives the lock up (src/rollups/aggregator.ts).
// - `idle_in_transaction_session_timeout`: a holder that stops talking in the middle of a
//   run (a stalled process) loses its connection, and with it the lock.
import type { PendingQuery, Row, RowList } from "postgres";
import type { Queryable } from "../db/client.ts";

const BOUNDED_SETTINGS = ["statement_timeout", "idle_in_transaction_session_timeout", "enable_nestloop"] as const;

/**
 * Sets the bounds on the session (`isLocal` false: the lock holder's connection, whose
 * vacuum and lock statements run outside any transaction) or on the caller's transaction.
 */
export async function applyRunBounds(sql: Queryable, statementTimeoutMs: number, isLocal: boolean): Promise<void> {
  const timeout = String(statementTimeoutMs);
  await sql`
    select set_config('statement_timeout', ${timeout}, ${isLocal}),
           set_config('idle_in_transaction_session_timeout', ${timeout}, ${isLocal}),
           set_config('enable_nestloop', 'off', ${isLocal})
  `;
}

/** Puts the session's settings back as they were, before its connection returns to the pool. */
export async function resetRunBounds(sql: Queryable): Promise<void> {
  await sql`
    select set_config(name, reset_val, false) from pg_settings where name in ${sql([...BOUNDED_SETTINGS])}
  `;
}

/**
 * Runs `query`, cancelling it in the database (the protocol's cancel request) if `signal`
 * aborts before it ends; a query not yet sent is never sent.
 */
export async function runCancellable<T extends readonly Row[]>(
  query: PendingQuery<T>,
  signal: AbortSignal | undefined,
): Promise<RowList<T>> {
  if (!signal) return query;
  signal.throwIfAborted();
  const cancel = () => query.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    return await query;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

/** Whether `promise` settles within `ms`; it is left running either way. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settle = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settle, settle);
  });
}
