// What a JSON body costs before it is parsed. JSON.parse runs on the only thread: a body
// of nothing but brackets took seconds and gigabytes to refuse, and stalled every other
// request meanwhile. So the body's text is scanned first (one pass, no allocation) and
// refused when it nests deeper than any request of this API can use; and large bodies are
// handled a few at a time, the rest answered 503 at once rather than held in memory.
import type { MiddlewareHandler } from "hono";
import { AppError } from "./errors.ts";
import { incompleteBody } from "./middleware.ts";

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** How deeply `text` nests arrays and objects, counted up to `limit + 1` at most. */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let isInString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isInString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) isInString = false;
    } else if (code === QUOTE) {
      isInString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

/** At most `capacity` holders at once; taking never waits. */
export class Slots {
  private taken = 0;

  constructor(readonly capacity: number) {}

  tryTake(): boolean {
    if (this.taken >= this.capacity) return false;
    this.taken++;
    return true;
  }

  release(): void {
    this.taken--;
  }
}

export interface JsonBodyLimits {
  /** Deepest nesting a body may have (a batch needs 3: object, list, reading). */
  maxDepth: number;
  /** Bodies over this many characters are large: they need one of `largeSlots`. */
  largeBytes: number;
  largeSlots: Slots;
}

const tooDeep = (maxDepth: number) =>
  new AppError(400, "nesting_too_deep", `request body nests arrays and objects deeper than ${maxDepth} levels`);

const tooManyLarge = () =>
  new AppError(503, "busy", "too many large bodies are being handled at once; retry shortly", undefined, {
    "Retry-After": "1",
  });

/**
 * Reads the body as text (Hono keeps it, so the validator after parses it once), checks its
 * nesting, and holds a large-body slot until the request is answered.
 */
export const checkJsonBody =
  (limits: JsonBodyLimits): MiddlewareHandler =>
  async (c, next) => {
    const text = await c.req.text().catch((error) => {
      throw error instanceof AppError ? error : incompleteBody();
    });
    if (nestingDepth(text, limits.maxDepth) > limits.maxDepth) throw tooDeep(limits.maxDepth);
    // Characters, not bytes: a count that costs nothing, and never more than the bytes.
    const isLarge = text.length > limits.largeBytes;
    if (isLarge && !limits.largeSlots.tryTake()) throw tooManyLarge();
    try {
      await next();
    } finally {
      if (isLarge) limits.largeSlots.release();
    }
  };
