// Analytics windows: ISO-8601 instants with a zone, half-open [from, to), validated and
// bounded. Series and fleet views work on whole buckets, so their windows are widened to
// bucket boundaries (from rounds down, to rounds up) and the answer says so.
import { z } from "zod";
import { instantSchema } from "../http/schemas.ts";
import { DAY_MS, HOUR_MS } from "../time.ts";
import type { Window } from "./energy.ts";

const instant = instantSchema("2026-02-09T00:00:00Z");

export const windowFields = { from: instant.optional(), to: instant.optional() };

export interface WindowRules {
  now: () => Date;
  defaultSpanMs: number;
  maxSpanMs: number;
  /** Bucket size the window is widened to; none for exact windows. */
  stepMs?: number;
}

const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;
const ceilTo = (ms: number, step: number) => Math.ceil(ms / step) * step;

/** Missing `to` is now (widened to the step); missing `from` is `defaultSpanMs` before `to`. */
export function resolveWindow(fields: { from?: Date; to?: Date }, rules: WindowRules): Window {
  const step = rules.stepMs;
  const end = step ? ceilTo((fields.to ?? rules.now()).getTime(), step) : (fields.to ?? rules.now()).getTime();
  const start = fields.from?.getTime() ?? end - rules.defaultSpanMs;
  return { from: new Date(step ? floorTo(start, step) : start), to: new Date(end) };
}

const describe = (ms: number) => (ms % DAY_MS === 0 ? `${ms / DAY_MS} days` : `${ms / HOUR_MS} hours`);

/** Adds an issue on `from` when the window is empty, reversed or too long. */
export function checkWindow(window: Window, maxSpanMs: number, context: z.RefinementCtx) {
  if (window.from >= window.to) context.addIssue({ code: "custom", path: ["from"], message: "from must be before to" });
  else if (window.to.getTime() - window.from.getTime() > maxSpanMs) {
    context.addIssue({ code: "custom", path: ["from"], message: `the window may span at most ${describe(maxSpanMs)}` });
  }
}

/** `?from=&to=` alone, resolved and checked by `rules`. */
export function windowSchema(rules: WindowRules) {
  return z
    .object(windowFields)
    .transform((fields) => resolveWindow(fields, rules))
    .superRefine((window, context) => checkWindow(window, rules.maxSpanMs, context));
}
