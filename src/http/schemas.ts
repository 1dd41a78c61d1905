// Request fields more than one route reads: device ids, ISO-8601 instants, and the type
// error message that tells a missing field from a mistyped one.
import { z } from "zod";

/** A type error message that says "is required" when the field is missing altogether. */
export const typeError = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "is required" : message;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const deviceIdSchema = z
  .string({ error: typeError("must be a UUID string") })
  .regex(UUID, "must be a UUID")
  .transform((id) => id.toLowerCase());

const EARLIEST = Date.parse("1970-01-01T00:00:00Z");
const LATEST = Date.parse("9000-01-01T00:00:00Z");

/**
 * An ISO-8601 date-time with a zone, as a Date; `example` shows the form in the error
 * message. Bounded to [1970, 9000): windows are computed from it (a day before, rounded
 * out to a bucket), and outside years 1 to 9999 PostgreSQL cannot read the instant at all.
 */
export const instantSchema = (example: string) =>
  z.iso
    .datetime({ offset: true, error: typeError(`must be an ISO-8601 date-time with a zone, e.g. ${example}`) })
    .transform((text) => new Date(text))
    .refine((date) => date.getTime() >= EARLIEST && date.getTime() < LATEST, {
      message: "must be from 1970-01-01 up to (not including) 9000-01-01",
    });
