// Every operation the API documents, by "method path": what it is for, who may call it and
// what it answers. Kept beside the routes rather than inside them so documenting costs the
// request path nothing; the route tests hold the two together (every served route is
// here, every entry here is served, every answer matches its schema).
import type { z } from "zod";
import type { Scope } from "../auth/keys.ts";
import * as body from "./responses.ts";

/** An answer with a body of its own, or (a string) an error in the one error shape. */
export type Answer = readonly [schema: z.ZodType, description: string] | string;

export interface Operation {
  tag: string;
  summary: string;
  description?: string;
  /** The key scope a keyed service asks for; none for the open routes outside /v1. */
  scope?: Scope;
  /** Whether the database is asked (and so a 503 may come back when it is unreachable). */
  usesDatabase?: boolean;
  answers: Partial<Record<number, Answer>>;
  /** A response that is not JSON, e.g. the Prometheus text. */
  text?: { status: number; mediaType: string; description: string };
}

const bodyErrors = {
  400: "The body is not valid JSON (malformed_json), ended early (incomplete_body), or failed validation (validation_failed: `details` names each bad field)",
  413: "The body is larger than the route takes (payload_too_large)",
  415: "Content-Type is not one the route takes (unsupported_media_type)",
} as const;
const queryErrors = { 400: "A parameter failed validation (validation_failed: `details` names each)" } as const;
const vehicleNotFound = { 404: "The vehicle has never been seen (not_found)" } as const;

const ingestDescription =
  "A 2xx is sent only once the reading is committed. A replay of a reading already stored (same device, same instant to the millisecond) changes nothing and answers 200 duplicate. 503 overloaded (write queue full, or the rollups too far behind) / write_failed / shutting_down / partition_busy (the month's partition could not be made now): retry after Retry-After. Timestamps may reach back BACKFILL_MAX_MONTHS whole months (24 by default); older ones are refused with 400.";

export const OPERATIONS: Record<string, Operation> = {
  "get /healthz": {
    tag: "service",
    summary: "Liveness: the process answers",
    answers: { 200: [body.health, "Alive"] },
  },
  "get /readyz": {
    tag: "service",
    summary: "Readiness: the database answers and is migrated",
    usesDatabase: true,
    answers: { 200: [body.ready, "Ready"], 503: "not_migrated, or database_unavailable" },
  },
  "get /metrics": {
    tag: "service",
    summary: "Prometheus metrics",
    answers: {},
    text: { status: 200, mediaType: "text/plain; version=0.0.4", description: "Prometheus text exposition format" },
  },
  "get /openapi.json": {
    tag: "service",
    summary: "This document",
    answers: {},
    text: { status: 200, mediaType: "application/json", description: "OpenAPI 3.1" },
  },
  "post /v1/telemetry/meter": {
    tag: "telemetry",
    summary: "Ingest one meter reading",
    description: ingestDescription,
    scope: "ingest",
    usesDatabase: true,
    answers: {
      201: [body.readingStored, "Stored: a new reading"],
      200: [body.readingStored, "A replay, already stored (duplicate)"],
      ...bodyErrors,
    },
  },
  "post /v1/telemetry/vehicle": {
    tag: "telemetry",
    summary: "Ingest one vehicle reading",
    description: ingestDescription,
    scope: "ingest",
    usesDatabase: true,
    answers: {
      201: [body.readingStored, "Stored: a new reading"],
      200: [body.readingStored, "A replay, already stored (duplicate)"],
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
    answers: {
      201: [body.batchStored, "Stored: at least one reading was new"],
      200: [body.batchStored, "Every reading was a replay"],
      ...bodyErrors,
      408: "The body came too slowly (upload_too_slow) or stopped coming (upload_idle); nothing of it was written",
    },
  },
  "get /v1/mappings": {
    tag: "mappings",
    summary: "List meter-to-vehicle links",
    scope: "read",
    usesDatabase: true,
    answers: { 200: [body.mappingList, "The links, by vehicle, meter and start"], ...queryErrors },
  },
  "post /v1/mappings": {
    tag: "mappings",
    summary: "Link a meter to a vehicle",
    description:
      "A meter's first link reaches back over its whole history; later links start now unless `linkedAt` says otherwise, and close the meter's link elsewhere where they start.",
    scope: "admin",
    usesDatabase: true,
    answers: {
      201: [body.mapping, "Linked"],
      200: [body.mapping, "Already linked so: nothing changed"],
      ...bodyErrors,
      409: "The link would overlap one of the meter's other links (link_conflict)",
    },
  },
  "delete /v1/mappings/{vehicleId}/{meterId}": {
    tag: "mappings",
    summary: "Close a link",
    scope: "admin",
    usesDatabase: true,
    answers: {
      200: [body.mapping, "Closed (or already closed)"],
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
      200: [body.vehicleState, "The latest reading"],
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
      200: [body.meterState, "The latest reading"],
      ...queryErrors,
      404: "The meter has not reported (not_found)",
    },
  },
  "get /v1/analytics/performance/{vehicleId}": {
    tag: "analytics",
    summary: "One vehicle over a window: energy, efficiency, coverage and quality flags",
    description: "The window is [from, to); by default the 24 hours ending now, at most 366 days.",
    scope: "read",
    usesDatabase: true,
    answers: { 200: [body.vehiclePerformance, "The vehicle's figures"], ...queryErrors, ...vehicleNotFound },
  },
  "get /v1/analytics/vehicles/{vehicleId}/series": {
    tag: "analytics",
    summary: "One vehicle bucket by bucket (hour or day), ready to chart",
    description:
      "Hourly: by default the last 24 hours, at most 31 days. Daily: by default the last 30 days, at most 366. The window is widened to whole buckets.",
    scope: "read",
    usesDatabase: true,
    answers: { 200: [body.vehicleSeries, "Every bucket of the window"], ...queryErrors, ...vehicleNotFound },
  },
  "get /v1/analytics/fleet": {
    tag: "analytics",
    summary: "The whole fleet over a window: totals, efficiency spread, ranks, vehicles needing attention",
    description:
      "By default the last 24 hours, at most 31 days, widened to whole hours. `limit` and `offset` page the vehicles needing attention.",
    scope: "read",
    usesDatabase: true,
    answers: { 200: [body.fleetView, "The fleet's figures"], ...queryErrors },
  },
  "get /v1/admin/stats": {
    tag: "admin",
    summary: "Partitions, ingestion lag and device liveness",
    scope: "admin",
    usesDatabase: true,
    answers: { 200: [body.adminStats, "The figures"] },
  },
  "post /v1/keys": {
    tag: "keys",
    summary: "Create an API key (its secret is shown once)",
    scope: "admin",
    usesDatabase: true,
    answers: { 201: [body.apiKeyCreated, "Created"], ...bodyErrors },
  },
  "get /v1/keys": {
    tag: "keys",
    summary: "List API keys, without secrets",
    scope: "admin",
    usesDatabase: true,
    answers: { 200: [body.apiKeyList, "The keys, newest first"] },
  },
  "delete /v1/keys/{id}": {
    tag: "keys",
    summary: "Revoke an API key, at once",
    scope: "admin",
    usesDatabase: true,
    answers: { 200: [body.apiKeyRevoked, "Revoked"], ...queryErrors, 404: "No such key (not_found)" },
  },
};
