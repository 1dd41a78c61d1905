// Request bodies for the fuzz properties: readings, batches and NDJSON uploads that are valid but for
// (usually) one thing, built as raw JSON text so that any value can stand in any field; and raw bytes.
import fc from "fast-check";
import {
  almostUuid,
  anyRaw,
  iso,
  nastyString,
  numberValue,
  printable,
  rawNumberToken,
  recent,
  timestampText,
  uuid,
} from "./values.ts";

export type Kind = "meter" | "vehicle";
export type Fields = [string, string][]; // name and raw JSON text, in order

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

export type Mutation =
  | { op: "replace"; field: number; raw: string }
  | { op: "delete"; field: number }
  | { op: "duplicateKey"; field: number; raw: string }
  | { op: "extra"; name: string; raw: string }
  | { op: "rename"; field: number; name: string }
  | { op: "wrap"; with: "array" | "string" }
  | { op: "none" };

export const mutation = (fieldNames: string[]): fc.Arbitrary<Mutation> => {
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

export function render(fields: Fields, change: Mutation): string {
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

export const kindArb = fc.constantFrom<Kind>("meter", "vehicle");

/** A reading with (usually) one thing wrong, as JSON text. */
export const nearValidReading = (kind: Kind, withType = false) =>
  validFields(kind, withType).chain((fields) =>
    mutation(fields.map(([name]) => name)).map((change) => render(fields, change)),
  );

export const validReading = (kind: Kind, withType = false) =>
  validFields(kind, withType).map((fields) => render(fields, { op: "none" }));

/** A JSON batch whose items are valid but for (usually) one. */
export const nearValidBatch = fc
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
export const nearValidNdjson = fc
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

export const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 2_000 }),
  fc.string({ unit: "binary", maxLength: 500 }).map((text) => new TextEncoder().encode(text)),
  fc.uint8Array({ minLength: 70_000, maxLength: 70_100 }),
);
