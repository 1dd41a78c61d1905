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

/** An ISO-8601 date-time with a zone, as a Date; `example` shows the form in the error message. */
export const instantSchema = (example: string) =>
  z.iso
    .datetime({ offset: true, error: typeError(`must be an ISO-8601 date-time with a zone, e.g. ${example}`) })
    .transform((text) => new Date(text));
