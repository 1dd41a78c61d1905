// Property-based bad input against every route: whatever arrives (any JSON, near-valid
// readings with one field broken, random bytes under any content type, deep nesting,
// hostile path parameters and query strings, unknown paths, wrong methods, bodies streamed
// in odd chunks or breaking off mid-upload), the service answers below 500, in JSON, with
// the one error shape for every non-2xx, writes nothing when it refuses, and keeps taking
// valid readings afterwards (docs/design.md, invariant 4).
import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { useTestApp } from "./support/database.ts";
import { meterReading, postJson } from "./support/http.ts";

const t = useTestApp();

// ---------------------------------------------------------------------------------------
// Sending one probe and checking everything the contract promises about its answer
// ---------------------------------------------------------------------------------------

/** A body sent as a stream (no Content-Length), in these chunks; optionally breaking off. */
interface StreamedBody {
  chunks: Uint8Array[];
  /** The stream errors (the client went away) after this many chunks, before the last one. */
  breakAfter?: number;
}

interface Probe {
  method: string;
  path: string;
  contentType?: string;
  body?: string | Uint8Array | StreamedBody;
}

function streamOf({ chunks, breakAfter }: StreamedBody): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (breakAfter !== undefined && sent >= breakAfter) return controller.error(new Error("the client went away"));
      const chunk = chunks[sent++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

const HANG_MS = 10_000;

/** Row counts of the cold tables and a fingerprint of every hot row and mapping. */
async function rowCounts(): Promise<string> {
  const [row] = await t.database.sql<{ counts: string }[]>`
    select concat_ws(',',
      (select count(*) from meter_telemetry), (select count(*) from vehicle_telemetry),
      (select count(*) || ':' || md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from meter_state r),
      (select count(*) || ':' || md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from vehicle_state r),
      (select count(*) || ':' || md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from vehicle_meter_mapping r)
    ) as counts
  `;
  return row?.counts ?? "?";
}

const preview = (value: unknown, max = 300) => {
  const streamed = value as StreamedBody;
  const text =
    typeof value === "string"
      ? value
      : value instanceof Uint8Array
        ? `<${value.byteLength} bytes>`
        : Array.isArray(streamed?.chunks)
          ? `<stream of ${streamed.chunks.length} chunks${streamed.breakAfter === undefined ? "" : `, breaking off after ${streamed.breakAfter}`}: ${new TextDecoder().decode(Buffer.concat(streamed.chunks))}>`
          : String(value);
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
};

function describeProbe(probe: Probe) {
  return `${probe.method} ${preview(probe.path, 200)} [content-type: ${probe.contentType ?? "(none)"}] body: ${preview(probe.body)}`;
}

/** Builds the Request, or answers undefined when the probe is not a request a client could send. */
function buildRequest(probe: Probe): Request | undefined {
  const headers = new Headers();
  try {
    if (probe.contentType !== undefined) headers.set("content-type", probe.contentType);
    const hasBody = probe.body !== undefined && !["GET", "HEAD"].includes(probe.method.toUpperCase());
    const body = probe.body;
    const isStreamed = typeof body === "object" && !(body instanceof Uint8Array);
    return new Request(`http://localhost${probe.path}`, {
      method: probe.method,
      headers,
      body: hasBody ? (isStreamed ? streamOf(body) : body) : undefined,
      ...(hasBody && isStreamed ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch {
    return undefined; // the fetch API itself refuses it (forbidden method, bad header): not our input
  }
}

const isWrite = (probe: Probe) => !["GET", "HEAD", "OPTIONS"].includes(probe.method.toUpperCase());

let probesSent = 0;
const tally = new Map<string, number>();

/** Sends the probe and checks the answer; throws (with the probe) on any breach. */
async function send(probe: Probe): Promise<{ status: number; body: unknown }> {
  const request = buildRequest(probe);
  if (!request) {
    tally.set("unsendable", (tally.get("unsendable") ?? 0) + 1);
    return { status: 0, body: undefined };
  }
  probesSent++;
  const write = isWrite(probe);
  const before = write ? await rowCounts() : "";
  const unexpectedBefore = t.unexpected.length;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms`)), HANG_MS);
  });
  const fail = (why: string, extra = ""): never => {
    throw new Error(`${why}\n  request: ${describeProbe(probe)}${extra ? `\n  ${extra}` : ""}`);
  };
  let response: Response;
  let text: string;
  try {
    response = await Promise.race([t.app.request(request), hung]);
    text = await Promise.race([response.text(), hung]);
  } catch (error) {
    return fail(`the request threw or hung: ${(error as Error)?.stack ?? error}`);
  } finally {
    clearTimeout(timer);
  }
  const answer = `answer: ${response.status} ${preview(text)}`;
  const code = /"code":"([a-z_]+)"/.exec(text)?.[1] ?? "";
  tally.set(`${response.status} ${code}`, (tally.get(`${response.status} ${code}`) ?? 0) + 1);
  if (response.status >= 500) fail(`a ${response.status} answer`, answer);
  if (t.unexpected.length > unexpectedBefore)
    fail(
      `the app reported an unexpected error: ${(t.unexpected.at(-1) as Error)?.stack ?? t.unexpected.at(-1)}`,
      answer,
    );
  if (request.method === "HEAD") return { status: response.status, body: undefined };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    fail("the body is not JSON", answer);
  }
  if (!(response.headers.get("content-type") ?? "").startsWith("application/json"))
    fail(`content-type is ${response.headers.get("content-type")}, not JSON`, answer);
  if (response.status < 200 || response.status >= 300) {
    const shape = body as { error?: Record<string, unknown> } | null;
    const isShaped =
      typeof shape === "object" &&
      shape !== null &&
      !Array.isArray(shape) &&
      Object.keys(shape).join() === "error" &&
      typeof shape.error === "object" &&
      shape.error !== null &&
      typeof shape.error.code === "string" &&
      typeof shape.error.message === "string" &&
      Object.keys(shape.error).every((key) => ["code", "message", "details"].includes(key));
    if (!isShaped) fail("a non-2xx answer not in the error shape", answer);
    if (write) {
      const after = await rowCounts();
      if (after !== before) fail(`a ${response.status} answer wrote rows: ${before} -> ${after}`, answer);
    }
  }
  const streamed = probe.body as StreamedBody | undefined;
  if (streamed?.breakAfter !== undefined && response.status < 300)
    fail("an upload that broke off was answered 2xx", answer);
  return { status: response.status, body };
}

/** After a property: the service still takes a valid reading. */
async function expectStillServing() {
  const response = await postJson(t.app, "/v1/telemetry/meter", meterReading());
  expect(response.status).toBe(201);
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

const safeEncode = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80"; // a lone surrogate, as its UTF-8-like bytes
  }
};

const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength });

const contentType = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("application/json", "application/x-ndjson") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "Application/X-NDJSON",
      "application/x-ndjson; charset=utf-8",
      "application/json;;;",
      'application/json; charset="',
      "application/jsonx",
      "application/json-seq",
      "application/x-ndjsonx",
      "application/ndjson",
      "application/json, application/x-ndjson",
      "text/plain",
      "text/json",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
      "multipart/form-data; boundary=x",
      "application/octet-stream",
      "*/*",
      "",
      ";",
    ),
  },
  { weight: 1, arbitrary: printable(40) },
);

const nastyString = fc.oneof(
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
const rawNumberToken = fc.constantFrom(
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

const numberValue = fc.oneof(
  fc.double(),
  fc.double({ min: -1_000, max: 10_000_000, noNaN: true }),
  fc.integer({ min: -1_000_000_000, max: 10_000_000_000 }).map((n) => n / 1_000),
  fc.integer({ min: -100_000, max: 1_000_000 }).map((n) => n / 100),
  fc.constantFrom(-0, 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2, 2 ** 53),
);

const iso = (date: Date) => date.toISOString();
const nearNow = fc.date({
  min: new Date("1999-12-31T23:00:00Z"),
  max: new Date("2026-03-15T12:10:00Z"),
  noInvalidDate: true,
});
const recent = fc.date({
  min: new Date("2026-02-01T00:00:00Z"),
  max: new Date("2026-03-15T12:05:00Z"),
  noInvalidDate: true,
});
const offset = fc
  .tuple(fc.constantFrom("+", "-"), fc.nat(30), fc.nat(99))
  .map(([sign, h, m]) => `${sign}${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);

const timestampText = fc.oneof(
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

const uuid = fc.uuid();
const almostUuid = fc.oneof(
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

const deepNesting = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom("array", "object", "mixed"), fc.boolean())
  .map(([depth, kind, isClosed]) => {
    if (kind === "array") return "[".repeat(depth) + (isClosed ? "]".repeat(depth) : "");
    if (kind === "object") return '{"a":'.repeat(depth) + (isClosed ? `1${"}".repeat(depth)}` : "");
    return '[{"meters":'.repeat(depth) + (isClosed ? `[]${"}]".repeat(depth)}` : "");
  });

const jsonText = fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value));
const anythingText = fc
  .anything({ maxDepth: 4, withNullPrototype: true, withObjectString: true })
  .map((value) => JSON.stringify(value) ?? "");

/** Raw JSON text for a field's value: anything a careless or hostile client might put there. */
const anyRaw = fc.oneof(
  rawNumberToken,
  numberValue.map((n) => JSON.stringify(n)),
  nastyString.map((s) => JSON.stringify(s)),
  timestampText.map((s) => JSON.stringify(s)),
  almostUuid.map((s) => JSON.stringify(s)),
  jsonText,
  deepNesting,
);

type Kind = "meter" | "vehicle";
type Fields = [string, string][]; // name and raw JSON text, in order

const FIELD_VALUES: Record<string, fc.Arbitrary<string>> = {
  meterId: almostUuid.map((s) => JSON.stringify(s)),
  vehicleId: almostUuid.map((s) => JSON.stringify(s)),
  kwhConsumedAc: fc.oneof(rawNumberToken, numberValue.map(String)),
  kwhDeliveredDc: fc.oneof(rawNumberToken, numberValue.map(String)),
  voltage: fc.oneof(rawNumberToken, numberValue.map(String)),
  soc: fc.oneof(rawNumberToken, numberValue.map(String)),
  batteryTemp: fc.oneof(rawNumberToken, numberValue.map(String)),
  timestamp: timestampText.map((s) => JSON.stringify(s)),
  type: fc.oneof(fc.constantFrom('"meter"', '"vehicle"', '"METER"', '"Meter"', '"meters"', '""', "null", "1"), anyRaw),
};

/** A valid reading as raw fields. Instants are unique enough: a random recent millisecond. */
const validFields = (kind: Kind, withType: boolean): fc.Arbitrary<Fields> =>
  fc.tuple(uuid, recent, fc.nat(9_999_999), fc.nat(10_000)).map(([id, at, energy, hundredths]) => {
    const fields: Fields =
      kind === "meter"
        ? [
            ["meterId", JSON.stringify(id)],
            ["kwhConsumedAc", String(energy / 1000)],
            ["voltage", String(hundredths / 10)],
            ["timestamp", JSON.stringify(iso(at))],
          ]
        : [
            ["vehicleId", JSON.stringify(id)],
            ["soc", String(hundredths / 100)],
            ["kwhDeliveredDc", String(energy / 1000)],
            ["batteryTemp", String(hundredths / 10 - 500)],
            ["timestamp", JSON.stringify(iso(at))],
          ];
    return withType ? [["type", JSON.stringify(kind)], ...fields] : fields;
  });

type Mutation =
  | { op: "replace"; field: number; raw: string }
  | { op: "delete"; field: number }
  | { op: "duplicateKey"; field: number; raw: string }
  | { op: "extra"; name: string; raw: string }
  | { op: "rename"; field: number; name: string }
  | { op: "wrap"; with: "array" | "string" }
  | { op: "none" };

const mutation = (fieldNames: string[]): fc.Arbitrary<Mutation> => {
  const field = fc.nat(fieldNames.length - 1);
  const valueFor = (index: number) => fc.oneof(FIELD_VALUES[fieldNames[index] as string] ?? anyRaw, anyRaw);
  return fc.oneof(
    { weight: 8, arbitrary: field.chain((i) => valueFor(i).map((raw) => ({ op: "replace" as const, field: i, raw }))) },
    { weight: 1, arbitrary: field.map((i) => ({ op: "delete" as const, field: i })) },
    {
      weight: 2,
      arbitrary: field.chain((i) => valueFor(i).map((raw) => ({ op: "duplicateKey" as const, field: i, raw }))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype", "toString", ""), printable(10)),
          anyRaw,
        )
        .map(([name, raw]) => ({ op: "extra" as const, name, raw })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(field, fc.constantFrom("MeterId", "meter_id", "meterid", "VEHICLEID", "Timestamp", "soc ", "kwh"))
        .map(([i, name]) => ({ op: "rename" as const, field: i, name })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom("array" as const, "string" as const).map((w) => ({ op: "wrap" as const, with: w })),
    },
    { weight: 1, arbitrary: fc.constant({ op: "none" as const }) },
  );
};

function render(fields: Fields, change: Mutation): string {
  let entries = [...fields];
  if (change.op === "replace") entries[change.field] = [entries[change.field]?.[0] ?? "x", change.raw];
  if (change.op === "delete") entries = entries.filter((_, i) => i !== change.field);
  if (change.op === "duplicateKey") entries.push([entries[change.field]?.[0] ?? "x", change.raw]);
  if (change.op === "extra") entries.push([change.name, change.raw]);
  if (change.op === "rename") entries[change.field] = [change.name, entries[change.field]?.[1] ?? "1"];
  const text = `{${entries.map(([name, raw]) => `${JSON.stringify(name)}:${raw}`).join(",")}}`;
  if (change.op === "wrap") return change.with === "array" ? `[${text}]` : JSON.stringify(text);
  return text;
}

const kindArb = fc.constantFrom<Kind>("meter", "vehicle");

/** A reading with (usually) one thing wrong, as JSON text. */
const nearValidReading = (kind: Kind, withType = false) =>
  validFields(kind, withType).chain((fields) =>
    mutation(fields.map(([name]) => name)).map((change) => render(fields, change)),
  );

const validReading = (kind: Kind, withType = false) =>
  validFields(kind, withType).map((fields) => render(fields, { op: "none" }));

/** A JSON batch whose items are valid but for (usually) one. */
const nearValidBatch = fc
  .tuple(
    fc.array(kindArb, { minLength: 1, maxLength: 6 }),
    fc.nat(5),
    fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyRaw }),
    fc.constantFrom("meters", "vehicles", "both", "other"),
  )
  .chain(([kinds, bad, topLevel, container]) =>
    fc
      .tuple(...kinds.map((kind, i) => (i === bad % kinds.length ? nearValidReading(kind) : validReading(kind))))
      .map((items) => {
        const meters = items.filter((_, i) => kinds[i] === "meter");
        const vehicles = items.filter((_, i) => kinds[i] === "vehicle");
        const replaced = (list: string[]) => topLevel ?? `[${list.join(",")}]`;
        if (container === "other") return `{"readings":[${items.join(",")}]}`;
        if (container === "meters") return `{"meters":${replaced([...meters, ...vehicles])}}`;
        if (container === "vehicles") return `{"vehicles":${replaced([...vehicles, ...meters])}}`;
        return `{"meters":${replaced(meters)},"vehicles":[${vehicles.join(",")}]}`;
      }),
  );

/** An NDJSON upload whose lines are valid but for (usually) one, with odd line breaks. */
const nearValidNdjson = fc
  .tuple(
    fc.array(kindArb, { minLength: 1, maxLength: 6 }),
    fc.nat(5),
    fc.constantFrom("\n", "\r\n", "\n\n", "\n  \n"),
    fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 1, arbitrary: fc.oneof(anyRaw, nastyString) }),
  )
  .chain(([kinds, bad, newline, trailer]) =>
    fc
      .tuple(
        ...kinds.map((kind, i) => (i === bad % kinds.length ? nearValidReading(kind, true) : validReading(kind, true))),
      )
      .map((lines) => lines.join(newline) + (trailer ? `${newline}${trailer}` : "")),
  );

const WRITE_PATHS = ["/v1/telemetry/meter", "/v1/telemetry/vehicle", "/v1/telemetry/batch", "/v1/mappings"];

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 2_000 }),
  fc.string({ unit: "binary", maxLength: 500 }).map((text) => new TextEncoder().encode(text)),
  fc.uint8Array({ minLength: 70_000, maxLength: 70_100 }),
);

const pathParam = fc.oneof(
  almostUuid.map(safeEncode),
  almostUuid.filter((s) => !/[?#]/.test(s)),
  fc.constantFrom(
    "..",
    ".",
    "..%2F..%2Fhealthz",
    "..%2f..%2f..%2fv1%2fmappings",
    "%2e%2e%2f%2e%2e%2f",
    "%2e%2e",
    "%2F",
    "%00",
    "%",
    "%Z",
    "%zz",
    "%E0%A4%A",
    "%C0%AF",
    "%ff",
    "%uD800",
    "%ED%A0%80",
    "~",
    "%20",
    "+",
    "a;b",
    "a%3Bb",
    "%252F",
    "%3F",
    "%23",
  ),
  uuid.map((id) => `${id}%2F..%2F${id}`),
  uuid.map((id) => `${id}%00`),
  uuid.map((id) => `${safeEncode(id.toUpperCase())}`),
  nastyString.map(safeEncode),
);

const queryKey = fc.oneof(
  fc.constantFrom("vehicleId", "meterId", "limit", "from", "to", "from[]", "__proto__", "constructor", "toString"),
  printable(12),
);
const queryValue = fc.oneof(
  timestampText,
  almostUuid,
  fc.integer().map(String),
  fc.constantFrom("", "1", "1000", "1001", "0", "-1", "1e3", "0x10", "Infinity", "NaN", " 5 ", "1.5", "%", "%zz"),
  nastyString,
);
const queryString = fc
  .array(fc.tuple(queryKey, queryValue, fc.boolean(), fc.boolean()), { maxLength: 8 })
  .map((pairs) =>
    pairs
      .flatMap(([key, value, isEncoded, isRepeated]) => {
        const pair = isEncoded ? `${safeEncode(key)}=${safeEncode(value)}` : `${key}=${value.replace(/[#\s]/g, "")}`;
        return isRepeated ? [pair, pair.replace(/=.*/, `=${safeEncode(value)}x`)] : [pair];
      })
      .join("&"),
  );

const methodArb = fc.constantFrom(
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "HEAD",
  "PROPFIND",
  "get",
  "post",
);

const anyBody = fc.oneof(
  fc.constant(undefined),
  jsonText,
  anythingText,
  bytes,
  nearValidReading("meter"),
  deepNesting,
  nastyString,
);

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

const RUNS = 200;

describe("fuzzed input never breaks the service", () => {
  it("any JSON value as the body of every write endpoint (JSON and NDJSON)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITE_PATHS, "ndjson"),
        fc.oneof(jsonText, anythingText),
        fc.array(fc.oneof(jsonText, anythingText), { maxLength: 5 }),
        async (target, body, lines) => {
          if (target === "ndjson") {
            await send({
              method: "POST",
              path: "/v1/telemetry/batch",
              contentType: "application/x-ndjson",
              body: [body, ...lines].join("\n"),
            });
          } else {
            await send({ method: "POST", path: target, contentType: "application/json", body });
          }
        },
      ),
      { numRuns: RUNS },
    );
    await expectStillServing();
  }, 60_000);

  it("near-valid single readings with one field mutated", async () => {
    await fc.assert(
      fc.asyncProperty(
        kindArb.chain((kind) => nearValidReading(kind).map((body) => ({ kind, body }))),
        async ({ kind, body }) => {
          await send({ method: "POST", path: `/v1/telemetry/${kind}`, contentType: "application/json", body });
        },
      ),
      { numRuns: 300 },
    );
    await expectStillServing();
  }, 60_000);

  it("near-valid JSON batches and NDJSON uploads with one item broken", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nearValidBatch, nearValidNdjson), fc.boolean(), async (body, isNdjson) => {
        await send({
          method: "POST",
          path: "/v1/telemetry/batch",
          contentType: isNdjson ? "application/x-ndjson" : "application/json",
          body,
        });
      }),
      { numRuns: 300 },
    );
    await expectStillServing();
  }, 60_000);

  it("near-valid mapping bodies", async () => {
    const pair = fc.tuple(uuid, uuid).map(
      ([vehicleId, meterId]): Fields => [
        ["vehicleId", JSON.stringify(vehicleId)],
        ["meterId", JSON.stringify(meterId)],
      ],
    );
    await fc.assert(
      fc.asyncProperty(
        pair.chain((fields) => mutation(fields.map(([name]) => name)).map((change) => render(fields, change))),
        async (body) => {
          await send({ method: "POST", path: "/v1/mappings", contentType: "application/json", body });
        },
      ),
      { numRuns: RUNS },
    );
    await expectStillServing();
  }, 60_000);

  it("random bytes under random content types, to every endpoint", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITE_PATHS, "/v1/telemetry/batch"),
        contentType,
        bytes,
        async (path, type, body) => {
          await send({ method: "POST", path, contentType: type, body });
        },
      ),
      { numRuns: RUNS },
    );
    await expectStillServing();
  }, 60_000);

  it("deeply nested arrays and objects, as a body and inside fields", async () => {
    await fc.assert(
      fc.asyncProperty(
        deepNesting,
        fc.constantFrom("body", "meterId", "meters", "ndjson-line", "ndjson-field"),
        fc.constantFrom(...WRITE_PATHS),
        async (nested, where, path) => {
          const probe: Probe =
            where === "body"
              ? { method: "POST", path, contentType: "application/json", body: nested }
              : where === "meterId"
                ? {
                    method: "POST",
                    path: "/v1/telemetry/meter",
                    contentType: "application/json",
                    body: `{"meterId":${nested},"kwhConsumedAc":1,"voltage":230,"timestamp":"2026-03-15T11:00:00Z"}`,
                  }
                : where === "meters"
                  ? {
                      method: "POST",
                      path: "/v1/telemetry/batch",
                      contentType: "application/json",
                      body: `{"meters":${nested}}`,
                    }
                  : {
                      method: "POST",
                      path: "/v1/telemetry/batch",
                      contentType: "application/x-ndjson",
                      body: where === "ndjson-line" ? nested : `{"type":"meter","meterId":${nested}}`,
                    };
          await send(probe);
        },
      ),
      { numRuns: 100 },
    );
    await expectStillServing();
  }, 60_000);

  it("hostile path parameters: almost-UUIDs, percent-encoding, traversal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("delete-mapping", "vehicle-state", "meter-state", "performance", "series"),
        pathParam,
        pathParam,
        async (route, first, second) => {
          const path =
            route === "delete-mapping"
              ? `/v1/mappings/${first}/${second}`
              : route === "vehicle-state"
                ? `/v1/vehicles/${first}/state`
                : route === "meter-state"
                  ? `/v1/meters/${first}/state`
                  : route === "series"
                    ? `/v1/analytics/vehicles/${first}/series`
                    : `/v1/analytics/performance/${first}`;
          await send({ method: route === "delete-mapping" ? "DELETE" : "GET", path });
        },
      ),
      { numRuns: 300 },
    );
    await expectStillServing();
  }, 60_000);

  it("hostile query strings: duplicate keys, odd values, bad encoding", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("mappings", "performance", "state", "series", "fleet", "stats", "unlink"),
        uuid,
        queryString,
        async (route, id, query) => {
          const paths: Record<string, string> = {
            mappings: `/v1/mappings?${query}`,
            performance: `/v1/analytics/performance/${id}?${query}`,
            state: `/v1/meters/${id}/state?${query}`,
            series: `/v1/analytics/vehicles/${id}/series?${query}`,
            fleet: `/v1/analytics/fleet?${query}`,
            stats: `/v1/admin/stats?${query}`,
            unlink: `/v1/mappings/${id}/${id}?${query}`,
          };
          await send({ method: route === "unlink" ? "DELETE" : "GET", path: paths[route] as string });
        },
      ),
      { numRuns: 300 },
    );
    await expectStillServing();
  }, 60_000);

  it("unknown paths and wrong methods", async () => {
    const knownPath = fc.constantFrom(
      "/",
      "/healthz",
      "/readyz",
      "/v1",
      "/v1/",
      ...WRITE_PATHS,
      "/v1/telemetry",
      "/v1/telemetry/meter/",
      "/V1/TELEMETRY/METER",
      "/v1/telemetry/meter/../vehicle",
      "/v1/telemetry/%6D%65%74%65%72",
      "//v1/telemetry/meter",
      "/v1//mappings",
      "/v1/telemetry/meter;x=1",
      "/v1/mappings/00000000-0000-0000-0000-000000000000",
      "/v1/vehicles/00000000-0000-0000-0000-000000000000",
      "/v1/analytics/performance",
      "/v1/analytics/performance/",
      "/v2/telemetry/meter",
      "/%2e%2e/%2e%2e/etc/passwd",
    );
    const randomPath = fc
      .array(fc.oneof(pathParam, printable(12).map(safeEncode)), { minLength: 1, maxLength: 5 })
      .map((segments) => `/${segments.join("/")}`);
    await fc.assert(
      fc.asyncProperty(
        methodArb,
        fc.oneof(
          knownPath,
          randomPath,
          randomPath.map((p) => `/v1${p}`),
        ),
        fc.option(contentType, { nil: undefined }),
        anyBody,
        async (method, path, type, body) => {
          await send({ method, path, contentType: type, body });
        },
      ),
      { numRuns: 300 },
    );
    await expectStillServing();
  }, 60_000);

  it("bodies streamed in arbitrary chunks (split inside characters), some breaking off mid-upload", async () => {
    const body = fc.oneof(
      kindArb.chain((kind) => nearValidReading(kind)),
      nearValidBatch,
      nearValidNdjson,
      jsonText,
      fc.constantFrom('{"meterId":"é€𝟙"}', '{"vehicles":[]}\n', "\u00e9\u20ac\ud835\udfd9"),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITE_PATHS, "ndjson"),
        body,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.option(fc.nat(6), { nil: undefined }),
        async (target, text, cuts, breakAt) => {
          const bytes = new TextEncoder().encode(text);
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...points, bytes.length]
            .slice(1)
            .map((end, i, ends) => bytes.slice(i === 0 ? 0 : (ends[i - 1] as number), end))
            .filter((chunk) => chunk.length > 0);
          const breakAfter = breakAt === undefined || chunks.length === 0 ? undefined : breakAt % chunks.length;
          await send({
            method: "POST",
            path: target === "ndjson" ? "/v1/telemetry/batch" : target,
            contentType: target === "ndjson" ? "application/x-ndjson" : "application/json",
            body: { chunks, breakAfter },
          });
        },
      ),
      { numRuns: RUNS },
    );
    await expectStillServing();
  }, 60_000);

  it("kept each device's hot state equal to its newest history through all of it", async () => {
    const sql = t.database.sql;
    const meterMismatches = await sql`
      select s.meter_id from meter_state s
      left join lateral (
        select * from meter_telemetry c where c.meter_id = s.meter_id order by recorded_at desc limit 1
      ) c on true
      where c.meter_id is null or (s.kwh_consumed_ac, s.voltage, s.last_updated)
        is distinct from (c.kwh_consumed_ac, c.voltage, c.recorded_at)
    `;
    const vehicleMismatches = await sql`
      select s.vehicle_id from vehicle_state s
      left join lateral (
        select * from vehicle_telemetry c where c.vehicle_id = s.vehicle_id order by recorded_at desc limit 1
      ) c on true
      where c.vehicle_id is null or (s.soc, s.kwh_delivered_dc, s.battery_temp, s.last_updated)
        is distinct from (c.soc, c.kwh_delivered_dc, c.battery_temp, c.recorded_at)
    `;
    expect([...meterMismatches]).toEqual([]);
    expect([...vehicleMismatches]).toEqual([]);
    const [states] = await sql<{ meters: number; vehicles: number }[]>`
      select (select count(*) from meter_state)::int as meters, (select count(*) from vehicle_state)::int as vehicles
    `;
    const [devices] = await sql<{ meters: number; vehicles: number }[]>`
      select (select count(distinct meter_id) from meter_telemetry)::int as meters,
             (select count(distinct vehicle_id) from vehicle_telemetry)::int as vehicles
    `;
    expect(states).toEqual(devices as { meters: number; vehicles: number });
    expect(probesSent).toBeGreaterThan(1_500);
    // The generators reach every kind of answer, not just one refusal over and over.
    for (const seen of ["201 ", "200 ", "400 validation_failed", "400 malformed_json", "404 not_found"])
      expect(tally.get(seen) ?? 0).toBeGreaterThan(0);
    for (const seen of ["413 payload_too_large", "415 unsupported_media_type"])
      expect(tally.get(seen) ?? 0).toBeGreaterThan(0);
  });
});
