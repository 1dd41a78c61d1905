// Everything around the body for the fuzz properties: content types, path parameters, query strings,
// methods, and any body at all.
import fc from "fast-check";
import { bytes, nearValidReading } from "./bodies.ts";
import {
  almostUuid,
  anythingText,
  deepNesting,
  jsonText,
  nastyString,
  printable,
  safeEncode,
  timestampText,
  uuid,
} from "./values.ts";

export const WRITE_PATHS = ["/v1/telemetry/meter", "/v1/telemetry/vehicle", "/v1/telemetry/batch", "/v1/mappings"];

export const contentType = fc.oneof(
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

export const pathParam = fc.oneof(
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
export const queryString = fc
  .array(fc.tuple(queryKey, queryValue, fc.boolean(), fc.boolean()), { maxLength: 8 })
  .map((pairs) =>
    pairs
      .flatMap(([key, value, isEncoded, isRepeated]) => {
        const pair = isEncoded ? `${safeEncode(key)}=${safeEncode(value)}` : `${key}=${value.replace(/[#\s]/g, "")}`;
        return isRepeated ? [pair, pair.replace(/=.*/, `=${safeEncode(value)}x`)] : [pair];
      })
      .join("&"),
  );

export const methodArb = fc.constantFrom(
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

export const anyBody = fc.oneof(
  fc.constant(undefined),
  jsonText,
  anythingText,
  bytes,
  nearValidReading("meter"),
  deepNesting,
  nastyString,
);
