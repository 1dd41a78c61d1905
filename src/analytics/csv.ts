// The fleet's vehicles and one vehicle's series as CSV, for spreadsheets: asked for with
// ?format=csv or Accept: text/csv on the same routes as the JSON, with the same figures
// (numbers written as JSON writes them, null as an empty cell), a header row, and sent as
// a stream of chunks so a fleet of any size never sits in memory twice. Quoting follows
// RFC 4180; it is a few lines, where the CSV libraries bring Node streams the app must
// not depend on (it runs on any fetch runtime).
import type { Context } from "hono";
import { z } from "zod";

export const formatField = {
  format: z
    .enum(["json", "csv"], { error: "must be json or csv" })
    .optional()
    .meta({ description: "csv: the answer as CSV (as Accept: text/csv does); json by default" }),
};

/** CSV when asked by ?format=csv, or by Accept: text/csv without ?format. */
export const wantsCsv = (c: Context, format: "json" | "csv" | undefined) =>
  format === undefined ? /\btext\/csv\b/i.test(c.req.header("accept") ?? "") : format === "csv";

type Cell = string | number | boolean | null;

// A cell a spreadsheet would run as a formula is kept as text (OWASP's advice on CSV injection).
const FORMULA = /^[=+\-@\t\r]/;

function cell(value: Cell): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = FORMULA.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const line = (cells: readonly Cell[]) => `${cells.map(cell).join(",")}\r\n`;

const ROWS_PER_CHUNK = 500;

/**
 * A 200 whose body is `header` then `rows`, one line each, streamed a chunk at a time. A
 * plain Response, so the route's type (what the typed client reads) stays its JSON.
 */
export function csvResponse(
  c: Context,
  filename: string,
  header: readonly string[],
  rows: readonly Cell[][],
): Response {
  const encoder = new TextEncoder();
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(line(header)));
    },
    pull(controller) {
      const chunk = rows.slice(next, next + ROWS_PER_CHUNK);
      next += chunk.length;
      if (chunk.length > 0) controller.enqueue(encoder.encode(chunk.map(line).join("")));
      if (next >= rows.length) controller.close();
    },
  });
  return c.body(body, 200, {
    "Content-Type": "text/csv; charset=utf-8; header=present",
    "Content-Disposition": `attachment; filename="${filename}"`,
    Vary: "Accept",
  });
}

/** An instant as it reads in a file name: 2026-03-15T11:00:00.000Z -> 20260315T1100Z. */
export const fileInstant = (iso: string) => iso.replace(/[-:]/g, "").replace(/(T\d{4})\d{2}\.\d{3}Z$/, "$1Z");
