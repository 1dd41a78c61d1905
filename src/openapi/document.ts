// The OpenAPI 3.1 document of a running app, served at /openapi.json. Parameters and
// request bodies come from the zod schemas the routes validate with (hono-openapi reads
// them off the validators); answers, scopes and descriptions from operations.ts. The
// document describes the app as configured: security and 401/403 only when keys are
// required, 429 only when requests are rate-limited, the key routes only when they exist.
import type { Env, Hono } from "hono";
import { generateSpecs, resolver } from "hono-openapi";
import type { OpenAPIV3_1 } from "openapi-types";
import type { z } from "zod";
import { ndjsonUpload } from "./examples.ts";
import { type Answer, OPERATIONS, type Operation } from "./operations.ts";
import { describeParameters } from "./parameters.ts";
import { errorBody } from "./responses.ts";

export type OpenApiDocument = OpenAPIV3_1.Document;
type Schema = OpenAPIV3_1.SchemaObject | OpenAPIV3_1.ReferenceObject;

export interface DocumentOptions {
  /** API keys are required on /v1 (API_MASTER_KEY is set). */
  isKeyed: boolean;
  isRateLimited: boolean;
  /** One line of an NDJSON upload, as validated. */
  ndjsonLine: z.ZodType;
}

const ERROR_REF = { $ref: "#/components/schemas/Error" };
// Device ids are matched without regard to case (and stored lower case); zod's JSON Schema
// drops the regex flag, so the request side says so itself.
const LOWER_UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
const ANY_CASE_UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

const retryAfter = {
  "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } },
} as const;

/** Error answers every route of a kind may give, on top of its own. */
function commonAnswers(path: string, operation: Operation, options: DocumentOptions): Record<number, string> {
  const answers: Record<number, string> = {};
  if (options.isKeyed && operation.scope) {
    answers[401] = "No key, or a key that is not valid or revoked (unauthorized)";
    answers[403] = `The key lacks the '${operation.scope}' scope (forbidden)`;
  }
  if (options.isRateLimited && path.startsWith("/v1/")) answers[429] = "Too many requests (rate_limited)";
  if (operation.usesDatabase) answers[503] = "The database is unavailable (database_unavailable); retry";
  if (!operation.text) answers[500] = "An unexpected error (internal_error); it is logged, never shown";
  return answers;
}

const wwwAuthenticate = {
  "WWW-Authenticate": { description: 'Bearer realm="fleet-telemetry"', schema: { type: "string" } },
} as const;

function errorAnswer(status: number, description: string): OpenAPIV3_1.ResponseObject {
  const headers = status === 429 || status === 503 ? retryAfter : status === 401 ? wwwAuthenticate : undefined;
  return { description, headers, content: { "application/json": { schema: ERROR_REF } } };
}

function replaceInRequests(value: unknown): void {
  if (Array.isArray(value)) for (const item of value) replaceInRequests(item);
  else if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record.pattern === LOWER_UUID) record.pattern = ANY_CASE_UUID;
    for (const child of Object.values(record)) replaceInRequests(child);
  }
}

/** zod spells `format: date-time` out again as a 400-character pattern: the format says it. */
function dropDateTimePatterns(value: unknown): void {
  if (Array.isArray(value)) for (const item of value) dropDateTimePatterns(item);
  else if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record.format === "date-time") delete record.pattern;
    for (const child of Object.values(record)) dropDateTimePatterns(child);
  }
}

/** Each NDJSON line names its kind; the line schema's variants say so. */
function describeLineType(schema: Schema): void {
  for (const variant of (schema as OpenAPIV3_1.SchemaObject).oneOf ??
    (schema as OpenAPIV3_1.SchemaObject).anyOf ??
    []) {
    const type = (variant as OpenAPIV3_1.SchemaObject).properties?.type as OpenAPIV3_1.SchemaObject | undefined;
    if (type) type.description ??= "Which kind of reading the line is: meter or vehicle";
  }
}

export async function buildOpenApiDocument<E extends Env>(
  app: Hono<E>,
  options: DocumentOptions,
): Promise<OpenApiDocument> {
  const generated = await generateSpecs(app, {
    includeEmptyPaths: true,
    excludeStaticFile: false,
    defaultValidationErrorResponse: false,
  });
  replaceInRequests(generated.paths);
  const schemas: Record<string, Schema> = { ...(generated.components?.schemas as Record<string, Schema>) };
  const toSchema = async (schema: z.ZodType): Promise<Schema> => {
    const resolved = await resolver(schema).toOpenAPISchema();
    Object.assign(schemas, resolved.components?.schemas);
    return resolved.schema;
  };
  await toSchema(errorBody);
  schemas.TelemetryLine = await toSchema(options.ndjsonLine);
  describeLineType(schemas.TelemetryLine);

  const paths: OpenAPIV3_1.PathsObject = {};
  for (const [key, operation] of Object.entries(OPERATIONS)) {
    const [method, path] = key.split(" ") as [OpenAPIV3_1.HttpMethods, string];
    const found = generated.paths?.[path]?.[method] as OpenAPIV3_1.OperationObject | undefined;
    if (!found) continue; // not served as configured (no keys, no metrics)

    const responses: OpenAPIV3_1.ResponsesObject = {};
    const answers: [string, Answer][] = [
      ...(Object.entries(operation.answers) as [string, Answer][]),
      ...Object.entries(commonAnswers(path, operation, options)),
    ];
    if (operation.text) answers.push([String(operation.text.status), operation.text.description]);
    for (const [status, answer] of answers.sort(([a], [b]) => Number(a) - Number(b))) {
      if (operation.text && Number(status) === operation.text.status) {
        responses[status] = {
          description: operation.text.description,
          content: { [operation.text.mediaType]: { schema: { type: "string" }, example: operation.text.example } },
        };
      } else if (typeof answer === "string") {
        responses[status] = errorAnswer(Number(status), answer);
      } else {
        const [schema, description, example] = answer;
        responses[status] = {
          description,
          content: { "application/json": { schema: await toSchema(schema), example } },
        };
        if (operation.csv && status === "200") {
          const content = responses[status].content as Record<string, OpenAPIV3_1.MediaTypeObject>;
          content["text/csv"] = {
            schema: { type: "string", description: operation.csv.columns },
            example: operation.csv.example,
          };
        }
      }
    }

    const requestBody = found.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
    const jsonBody = requestBody?.content["application/json"];
    if (jsonBody && operation.request !== undefined) jsonBody.example = operation.request;
    describeParameters(found.parameters as OpenAPIV3_1.ParameterObject[] | undefined);
    if (key === "post /v1/telemetry/batch" && requestBody) {
      requestBody.content["application/x-ndjson"] = {
        schema: {
          type: "string",
          description:
            "Newline-delimited JSON: one TelemetryLine a line (#/components/schemas/TelemetryLine), e.g.\n" +
            '{"type":"meter","meterId":"…","kwhConsumedAc":1.5,"voltage":230,"timestamp":"2026-03-15T11:00:00Z"}',
        },
        example: ndjsonUpload,
      };
    }
    let description = operation.description;
    if (options.isKeyed && operation.scope) {
      const needs = `Needs a key with the '${operation.scope}' scope${operation.scope === "admin" ? "" : " (or admin)"}.`;
      description = description ? `${description}\n\n${needs}` : needs;
    }
    paths[path] = {
      ...paths[path],
      [method]: {
        operationId: found.operationId,
        tags: [operation.tag],
        summary: operation.summary,
        description,
        security: options.isKeyed && operation.scope ? [{ bearerAuth: [] }] : undefined,
        parameters: found.parameters?.length ? found.parameters : undefined,
        requestBody,
        responses,
      },
    };
  }

  dropDateTimePatterns(paths);
  dropDateTimePatterns(schemas);
  return {
    openapi: "3.1.0",
    info: {
      title: "Fleet energy telemetry",
      version: "v1",
      description:
        "EV fleet meters and vehicles report energy each minute; this service stores the readings and answers analytics. " +
        'Every error has one shape, {"error":{"code","message","details"?}}. ' +
        (options.isKeyed
          ? "Every /v1 route needs `Authorization: Bearer <key>` with the route's scope."
          : "This service runs open: no key is asked for."),
    },
    paths,
    components: {
      schemas,
      ...(options.isKeyed
        ? {
            securitySchemes: {
              bearerAuth: {
                type: "http",
                scheme: "bearer",
                description: "An API key, fk_<id>_<secret>, or the master key",
              },
            },
          }
        : {}),
    },
  };
}
