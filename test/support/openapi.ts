// Holds answers to what /openapi.json says of them: the route tests pass the responses they
// already receive to expectDocumented, which fails when the status is not documented for
// that route or the JSON body does not match the documented schema. The document is the
// one of an app with every option on (keys, rate limits, metrics), so every answer any
// configuration can give is in it; building it touches no database.
import { expect } from "bun:test";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { OpenAPIV3_1 } from "openapi-types";
import { createApp } from "../../src/app.ts";
import { TokenBuckets } from "../../src/auth/rate-limit.ts";
import type { Db, Sql } from "../../src/db/client.ts";
import { KeyStore } from "../../src/keys/store.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { OpenApiDocument } from "../../src/openapi/document.ts";
import type { TelemetryWriter } from "../../src/telemetry/writer.ts";

/** An app with every option on, over nothing: for reading its document and routes only. */
export function fullyConfiguredApp() {
  const sql = {} as Sql;
  return createApp({
    sql,
    db: {} as Db,
    writer: {} as TelemetryWriter,
    keys: new KeyStore({} as Db, sql, "unused-master-key"),
    rateLimits: new TokenBuckets(1, 1),
    metrics: createMetrics({ sql, poolSize: 1 }),
  });
}

let documentPromise: Promise<OpenApiDocument> | undefined;

/** The document of the fully configured app, fetched from its /openapi.json. */
export function apiDocument(): Promise<OpenApiDocument> {
  documentPromise ??= Promise.resolve(fullyConfiguredApp().request("/openapi.json")).then(async (response) => {
    if (response.status !== 200) throw new Error(`/openapi.json answered ${response.status}`);
    return (await response.json()) as OpenApiDocument;
  });
  return documentPromise;
}

/** The document's path template ("/v1/vehicles/{vehicleId}/state") that a concrete path falls under. */
export function documentedPath(document: OpenApiDocument, path: string): string | undefined {
  const bare = path.split("?")[0] as string;
  const templates = Object.keys(document.paths ?? {});
  if (templates.includes(bare)) return bare;
  return templates.find((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
    return new RegExp(`^${pattern}$`).test(bare);
  });
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();
let isDocumentAdded = false;

function validatorFor(document: OpenApiDocument, key: string, schema: object): ValidateFunction {
  if (!isDocumentAdded) {
    // The schemas refer to one another as #/components/schemas/X: kept under an id of
    // their own, they resolve wherever a response schema is compiled.
    ajv.addSchema({ $id: "openapi", components: document.components ?? {} });
    isDocumentAdded = true;
  }
  let validate = validators.get(key);
  if (!validate) {
    const text = JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/');
    validate = ajv.compile(JSON.parse(text));
    validators.set(key, validate);
  }
  return validate;
}

export interface ReceivedResponse {
  status: number;
  headers?: Headers;
  body: unknown;
  /** Set by the http.ts helpers; else pass method and path. */
  request?: { method: string; path: string };
}

/**
 * Fails unless the response's status is documented for its route and its JSON body
 * matches the documented schema. Answers the response, to allow inline use.
 */
export async function expectDocumented<R extends ReceivedResponse>(
  response: R,
  method = response.request?.method,
  path = response.request?.path,
): Promise<R> {
  if (!method || !path) throw new Error("expectDocumented needs the request's method and path");
  const document = await apiDocument();
  const template = documentedPath(document, path);
  const where = `${method} ${path}`;
  expect(template, `${where} is not in /openapi.json`).toBeDefined();
  const operation = document.paths?.[template as string]?.[method.toLowerCase() as OpenAPIV3_1.HttpMethods];
  expect(operation, `${where}: ${method} is not documented for ${template}`).toBeDefined();
  const answer = (operation as OpenAPIV3_1.OperationObject).responses?.[String(response.status)] as
    | OpenAPIV3_1.ResponseObject
    | undefined;
  expect(answer, `${where} answered ${response.status}, which /openapi.json does not list`).toBeDefined();
  const schema = answer?.content?.["application/json"]?.schema;
  if (schema) {
    const contentType = response.headers?.get("content-type");
    if (contentType) expect(contentType).toStartWith("application/json");
    const validate = validatorFor(document, `${method} ${template} ${response.status}`, schema);
    const isValid = validate(response.body);
    expect(
      isValid ? [] : validate.errors?.map((error) => `${error.instancePath || "(body)"} ${error.message}`),
      `${where} answered ${response.status} with a body that does not match its schema: ${JSON.stringify(response.body).slice(0, 500)}`,
    ).toEqual([]);
  }
  return response;
}
