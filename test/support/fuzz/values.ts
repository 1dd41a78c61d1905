// Field-level values for the fuzz properties: strings, numbers, timestamps and ids as a careless or
// hostile client might send them, and JSON of any shape and depth.
import fc from "fast-check";

export const safeEncode = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80"; // a lone surrogate, as its UTF-8-like bytes
  }
};

export const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength });

export const nastyString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff\ud800",
    "\uffff",
    "\ufeff",
    "\u202e",
    "𝟙𝟚𝟛",
    "١٢٣",
    "NaN",
    "Infinity",
    "-0",
    "0x10",
    "1e308",
    "null",
    "undefined",
    "true",
    "{}",
    "[]",
    "'; drop table meter_telemetry; --",
    "\\N",
    "\\.",
    "\t",
    "\n",
    "\r\n",
    "a\tb\nc",
    "%00",
    "$" + "{x}",
    "__proto__",
  ),
  fc.integer({ min: 1_000, max: 80_000 }).map((length) => "x".repeat(length)),
);

// Raw JSON number-ish texts, several of which are not JSON at all (NaN, 0x10, +1, .5).
export const rawNumberToken = fc.constantFrom(
  "NaN",
  "Infinity",
  "-Infinity",
  "-0",
  "0",
  "-0.0",
  "0e0",
  "1e308",
  "-1e308",
  "1e309",
  "-1e309",
  "5e-324",
  "1e-7",
  "5e-9",
  "0.1e1",
  "1E2",
  "00",
  "01",
  "+1",
  ".5",
  "5.",
  "0x10",
  "1_0",
  "9999999.999",
  "9999999.9990000001",
  "9999999.9995",
  "10000000",
  "9999.99",
  "9999.995",
  "100",
  "100.0000000001",
  "100.004",
  "99.9999999",
  "-999.99",
  "-999.995",
  "-999.9999999",
  "999.99",
  "1.2345",
  "0.30000000000000004",
  "123456789012345678901234567890",
  "1.00000000000000000000000000000000001",
  "-1",
  "-0.0000001",
  '"1.5"',
  '" 1.5"',
  "true",
  "null",
  "[]",
  "{}",
  "[1.5]",
  '{"value":1.5}',
);

export const numberValue = fc.oneof(
  fc.double(),
  fc.double({ min: -1_000, max: 10_000_000, noNaN: true }),
  fc.integer({ min: -1_000_000_000, max: 10_000_000_000 }).map((n) => n / 1_000),
  fc.integer({ min: -100_000, max: 1_000_000 }).map((n) => n / 100),
  fc.constantFrom(-0, 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2, 2 ** 53),
);

export const iso = (date: Date) => date.toISOString();
const nearNow = fc.date({
  min: new Date("1999-12-31T23:00:00Z"),
  max: new Date("2026-03-15T12:10:00Z"),
  noInvalidDate: true,
});
export const recent = fc.date({
  min: new Date("2026-02-01T00:00:00Z"),
  max: new Date("2026-03-15T12:05:00Z"),
  noInvalidDate: true,
});
const offset = fc
  .tuple(fc.constantFrom("+", "-"), fc.nat(30), fc.nat(99))
  .map(([sign, h, m]) => `${sign}${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);

export const timestampText = fc.oneof(
  fc.date({ noInvalidDate: true }).map(iso), // anywhere in ±275,760 years: far past and future, extended years
  recent.map(iso),
  nearNow.map(iso),
  recent.map((date) => iso(date).replace("Z", "")), // no zone
  fc.tuple(recent, offset).map(([date, zone]) => iso(date).replace("Z", zone)),
  fc
    .tuple(recent, fc.stringMatching(/^\d{4,12}$/))
    .map(([date, digits]) => iso(date).replace(/\.\d+Z$/, `.${digits}Z`)),
  fc.constantFrom(
    "2000-01-01T00:00:00Z",
    "2000-01-01T00:00:00.000+00:00",
    "1999-12-31T23:59:59.999Z",
    "2026-03-15T12:04:59.999Z",
    "2026-03-15T12:05:00.000Z",
    "2026-03-15T12:05:00.001Z",
    "2026-03-15T11:00:00-00:00",
    "2026-03-15T11:00:00+24:00",
    "2026-03-15T11:00:00z",
    "2026-03-15t11:00:00Z",
    "2026-03-15 11:00:00Z",
    "2026-03-15T11:00Z",
    "2026-03-15T11Z",
    "2026-03-15",
    "2026-02-29T00:00:00Z",
    "2024-02-29T00:00:00Z",
    "2016-12-31T23:59:60Z",
    "2026-03-15T24:00:00Z",
    "2026-W11-7T11:00:00Z",
    "+002026-03-15T11:00:00Z",
    "-000001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "0000-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2026-03-15T11:00:00.Z",
    "2026-03-15T11:00:00,5Z",
    "Sun, 15 Mar 2026 11:00:00 GMT",
    "now",
    "",
  ),
);

export const uuid = fc.uuid();
export const almostUuid = fc.oneof(
  uuid,
  uuid.map((id) => id.toUpperCase()),
  fc
    .tuple(uuid, fc.nat(35), fc.constantFrom("g", "G", "-", "", " ", "\u0000", "０", "а", "xx", "00", "%", "/", "\n"))
    .map(([id, at, swap]) => id.slice(0, at) + swap + id.slice(at + 1)),
  uuid.map((id) => `{${id}}`),
  uuid.map((id) => id.replaceAll("-", "")),
  uuid.map((id) => `urn:uuid:${id}`),
  uuid.map((id) => ` ${id}`),
  uuid.map((id) => `${id}\n`),
  uuid.map((id) => `${id}0`),
  uuid.map((id) => id.slice(1)),
  fc.constantFrom("00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"),
  nastyString,
);

export const deepNesting = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom("array", "object", "mixed"), fc.boolean())
  .map(([depth, kind, isClosed]) => {
    if (kind === "array") return "[".repeat(depth) + (isClosed ? "]".repeat(depth) : "");
    if (kind === "object") return '{"a":'.repeat(depth) + (isClosed ? `1${"}".repeat(depth)}` : "");
    return '[{"meters":'.repeat(depth) + (isClosed ? `[]${"}]".repeat(depth)}` : "");
  });

export const jsonText = fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value));
export const anythingText = fc
  .anything({ maxDepth: 4, withNullPrototype: true, withObjectString: true })
  .map((value) => JSON.stringify(value) ?? "");

/** Raw JSON text for a field's value: anything a careless or hostile client might put there. */
export const anyRaw = fc.oneof(
  rawNumberToken,
  numberValue.map((n) => JSON.stringify(n)),
  nastyString.map((s) => JSON.stringify(s)),
  timestampText.map((s) => JSON.stringify(s)),
  almostUuid.map((s) => JSON.stringify(s)),
  jsonText,
  deepNesting,
);
