// Every operation the API documents, by "method path": what it is for, who may call it and
// what it answers. Kept beside the routes rather than inside them so documenting costs the
// request path nothing; the route tests hold the two together (every served route is
// here, every entry here is served, every answer matches its schema).
import type { z } from "zod";
import type { Scope } from "../keys/store.ts";
import * as example from "./examples.ts";
import * as body from "./responses.ts";

/** An answer with a body of its own (and an example of it), or (a string) an error in the one error shape. */
export type Answer = readonly [schema: z.ZodType, description: string, example?: unknown] | string;

export interface Operation {
  tag: string;
  summary: string;
  description?: string;
  /** The key scope a keyed service asks for; none for the open routes outside /v1. */
  scope?: Scope;
  /** Whether the database is asked (and so a 503 may come back when it is unreachable). */
  usesDatabase?: boolean;
  answers: Partial<Record<number, Answer>>;
  /** The 200 is also given as CSV (?format=csv or Accept: text/csv): what its columns are. */
  csv?: { columns: string; example: string };
  /** An example request body, for routes that take one. */
  request?: unknown;
  /** A response that is not JSON, e.g. the Prometheus text. */
  text?: { status: number; mediaType: string; description: string; example: string };
}

const bodyErrors = {
  400: "The body is not valid JSON (malformed_json), nests too deep (nesting_too_deep), ended early (incomplete_body), or failed validation (validation_failed: `details` names each bad field)",
  413: "The body is larger than the route takes (payload_too_large)",
  415: "Content-Type is not one the route takes (unsupported_media_type)",
} as const;
const queryErrors = { 400: "A parameter failed validation (validation_failed: `details` names each)" } as const;
const vehicleNotFound = { 404: "The vehicle has never been seen (not_found)" } as const;
const profileDescription =
  "Sets the device's name (trimmed, 1-100 characters, no control characters), shown beside its id in every answer and found by GET /v1/search. A device may be named before it first reports. 201 when it had no name, 200 when the name was replaced.";

const ingestDescription =
  "A 2xx is sent only once the reading is committed. A replay of a reading already stored (same device, same instant to the millisecond) changes nothing and answers 200 duplicate. 503 overloaded (write queue full, or the rollups too far behind) / database_busy (no connection came free in time) / busy (too many large batches at once) / write_failed / shutting_down / partition_busy (the month's partition could not be made now): retry after Retry-After. Timestamps may reach back BACKFILL_MAX_MONTHS whole months (24 by default); older ones are refused with 400.";

export const OPERATIONS: Record<string, Operation> = {
  "get /healthz": {
    tag: "service",
    summary: "Liveness: the process answers",
    answers: { 200: [body.health, "Alive", { status: "ok" }] },
  },
  "get /readyz": {
    tag: "service",
    summary: "Readiness: the database answers and is migrated",
    usesDatabase: true,
    answers: { 200: [body.ready, "Ready", { status: "ready" }], 503: "not_migrated, or database_unavailable" },
  },
  "get /metrics": {
    tag: "service",
    summary: "Prometheus metrics",
    answers: {},
    text: {
      status: 200,
      mediaType: "text/plain; version=0.0.4",
      description: "Prometheus text exposition format",
      example: example.metricsText,
    },
  },
  "get /openapi.json": {
    tag: "service",
    summary: "This document",
    answers: {},
    text: { status: 200, mediaType: "application/json", description: "OpenAPI 3.1", example: example.openApiText },
  },
  "post /v1/telemetry/meter": {
    tag: "telemetry",
    summary: "Ingest one meter reading",
    description: ingestDescription,
    scope: "ingest",
    usesDatabase: true,
    request: example.meterReading,
    answers: {
      201: [body.readingStored, "Stored: a new reading", { status: "stored" }],
      200: [body.readingStored, "A replay, already stored (duplicate)", { status: "duplicate" }],
      ...bodyErrors,
    },
  },
  "post /v1/telemetry/vehicle": {
    tag: "telemetry",
    summary: "Ingest one vehicle reading",
    description: ingestDescription,
    scope: "ingest",
    usesDatabase: true,
    request: example.vehicleReading,
    answers: {
      201: [body.readingStored, "Stored: a new reading", { status: "stored" }],
      200: [body.readingStored, "A replay, already stored (duplicate)", { status: "duplicate" }],
      ...bodyErrors,
    },
  },
  "post /v1/telemetry/batch": {
    tag: "telemetry",
    summary: "Ingest many readings at once, as JSON or streamed NDJSON",
    description:
      "All or nothing: one bad reading refuses the whole batch (400, `details` naming each, by index for JSON, by line for NDJSON). As application/x-ndjson the body is one reading a line, each a TelemetryLine (a meter or vehicle reading with its `type`), checked as it arrives and written once it is all in, so a gateway can send a day of buffered readings. The body must keep a minimum pace (2,048 bytes/s over 60 s, and never 30 s without a byte, by default), or it is cut with 408. " +
      ingestDescription.slice(ingestDescription.indexOf("503")) +
      " 503 uploads_busy: too many uploads are being received at once.",
    scope: "ingest",
    usesDatabase: true,
    request: example.batch,
    answers: {
      201: [body.batchStored, "Stored: at least one reading was new", { status: "stored", stored: 4, duplicates: 0 }],
      200: [body.batchStored, "Every reading was a replay", { status: "stored", stored: 0, duplicates: 4 }],
      ...bodyErrors,
      408: "The body came too slowly (upload_too_slow) or stopped coming (upload_idle); nothing of it was written",
    },
  },
  "get /v1/mappings": {
    tag: "mappings",
    summary: "List meter-to-vehicle links",
    scope: "read",
    usesDatabase: true,
    answers: {
      200: [body.mappingList, "The links, by vehicle, meter and start", { mappings: [example.mapping] }],
      ...queryErrors,
    },
  },
  "post /v1/mappings": {
    tag: "mappings",
    summary: "Link a meter to a vehicle",
    description:
      "A meter's first link reaches back over its whole history; later links start now unless `linkedAt` says otherwise. Linking a meter that is linked to another vehicle moves it: its open link there is closed where the new one starts (201).",
    scope: "admin",
    usesDatabase: true,
    request: example.link,
    answers: {
      201: [body.mapping, "Linked (and the meter's open link to another vehicle, if any, closed)", example.mapping],
      200: [body.mapping, "Already linked so: nothing changed", example.mapping],
      ...bodyErrors,
      409: "A `linkedAt` in the past reaches back into one of the meter's closed links, or before its current link began (link_conflict)",
    },
  },
  "delete /v1/mappings/{vehicleId}/{meterId}": {
    tag: "mappings",
    summary: "Close a link",
    scope: "admin",
    usesDatabase: true,
    answers: {
      200: [body.mapping, "Closed (or already closed)", example.closedMapping],
      ...queryErrors,
      404: "The two were never linked (not_found)",
    },
  },
  "get /v1/vehicles/{vehicleId}/state": {
    tag: "state",
    summary: "A vehicle's latest reading",
    scope: "read",
    usesDatabase: true,
    answers: {
      200: [body.vehicleState, "The latest reading", example.vehicleState],
      ...queryErrors,
      404: "The vehicle has not reported (not_found)",
    },
  },
  "get /v1/meters/{meterId}/state": {
    tag: "state",
    summary: "A meter's latest reading",
    scope: "read",
    usesDatabase: true,
    answers: {
      200: [body.meterState, "The latest reading", example.meterState],
      ...queryErrors,
      404: "The meter has not reported (not_found)",
    },
  },
  "put /v1/vehicles/{vehicleId}/profile": {
    tag: "profiles",
    summary: "Name a vehicle",
    description: profileDescription,
    scope: "admin",
    request: example.profile,
    usesDatabase: true,
    answers: {
      201: [body.vehicleProfile, "Named", example.vehicleProfile],
      200: [body.vehicleProfile, "Renamed", example.vehicleProfile],
      ...bodyErrors,
    },
  },
  "get /v1/vehicles/{vehicleId}/profile": {
    tag: "profiles",
    summary: "A vehicle's name",
    scope: "read",
    usesDatabase: true,
    answers: {
      200: [body.vehicleProfile, "The profile", example.vehicleProfile],
      ...queryErrors,
      404: "The vehicle has no profile (not_found)",
    },
  },
  "put /v1/meters/{meterId}/profile": {
    tag: "profiles",
    summary: "Name a meter",
    description: profileDescription,
    scope: "admin",
    request: example.profile,
    usesDatabase: true,
    answers: {
      201: [body.meterProfile, "Named", example.meterProfile],
      200: [body.meterProfile, "Renamed", example.meterProfile],
      ...bodyErrors,
    },
  },
  "get /v1/meters/{meterId}/profile": {
    tag: "profiles",
    summary: "A meter's name",
    scope: "read",
    usesDatabase: true,
    answers: {
      200: [body.meterProfile, "The profile", example.meterProfile],
      ...queryErrors,
      404: "The meter has no profile (not_found)",
    },
  },
  "get /v1/search": {
    tag: "search",
    summary: "Find vehicles and meters by id or name",
    description:
      "`q` is matched against ids (the whole id, or its first characters, hyphens optional) and names (any part, any case). Devices known by a reading, a link or a name are found.",
    scope: "read",
    usesDatabase: true,
    answers: { 200: [body.searchResults, "What was found, perhaps nothing"], ...queryErrors },
  },
  "get /v1/analytics/performance/{vehicleId}": {
    tag: "analytics",
    summary: "One vehicle over a window: energy, efficiency, coverage and quality flags",
    description: "The window is [from, to); by default the 24 hours ending now, at most 366 days.",
    scope: "read",
    usesDatabase: true,
    answers: {
      200: [body.vehiclePerformance, "The vehicle's figures", example.performance],
      ...queryErrors,
      ...vehicleNotFound,
    },
  },
  "get /v1/analytics/vehicles/{vehicleId}/series": {
    tag: "analytics",
    summary: "One vehicle bucket by bucket (hour or day), ready to chart",
    description:
      "Hourly: by default the last 24 hours, at most 31 days. Daily: by default the last 30 days, at most 366. The window is widened to whole buckets.",
    scope: "read",
    usesDatabase: true,
    answers: {
      200: [body.vehicleSeries, "Every bucket of the window", example.series],
      ...queryErrors,
      ...vehicleNotFound,
    },
    csv: {
      example: example.seriesCsv,
      columns:
        "One row a bucket: start, ac_kwh, dc_kwh, efficiency_ratio, avg_battery_temp_c, max_battery_temp_c, soc_min, soc_max, data_points (empty where the JSON has null). Sent as an attachment.",
    },
  },
  "get /v1/analytics/fleet": {
    tag: "analytics",
    summary: "The whole fleet over a window: totals, efficiency spread, ranks, vehicles needing attention",
    description:
      "By default the last 24 hours, at most 31 days, widened to whole hours. `limit` and `offset` page the vehicles needing attention.",
    scope: "read",
    usesDatabase: true,
    answers: { 200: [body.fleetView, "The fleet's figures", example.fleet], ...queryErrors },
    csv: {
      example: example.fleetCsv,
      columns:
        "Every vehicle of the window (not paged), by id: vehicle_id, name, ac_kwh, dc_kwh, efficiency_ratio, data_points, coverage, max_battery_temp_c, quality_flags (codes separated by spaces); the figures are those of the JSON. Sent as an attachment.",
    },
  },
  "get /v1/admin/stats": {
    tag: "admin",
    summary: "Partitions, ingestion lag and device liveness",
    scope: "admin",
    usesDatabase: true,
    answers: { 200: [body.adminStats, "The figures", example.adminStats] },
  },
  "post /v1/keys": {
    tag: "keys",
    summary: "Create an API key (its secret is shown once)",
    scope: "admin",
    usesDatabase: true,
    request: example.newKey,
    answers: { 201: [body.apiKeyCreated, "Created", example.apiKeyCreated], ...bodyErrors },
  },
  "get /v1/keys": {
    tag: "keys",
    summary: "List API keys, without secrets",
    scope: "admin",
    usesDatabase: true,
    answers: { 200: [body.apiKeyList, "The keys, newest first", example.apiKeyList] },
  },
  "delete /v1/keys/{id}": {
    tag: "keys",
    summary: "Revoke an API key, at once",
    scope: "admin",
    usesDatabase: true,
    answers: {
      200: [body.apiKeyRevoked, "Revoked", example.apiKeyRevoked],
      ...queryErrors,
      404: "No such key (not_found)",
    },
  },
};
