// /openapi.json explains itself: every field and parameter has a description, every number its unit, and
// every operation an example request (body, path parameters) and an example of each answer, which matches
// the answer's schema. The walk covers the whole document, so a route or field added later is held to it.
import { describe, expect, it } from "bun:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { OpenAPIV3_1 } from "openapi-types";
import type { OpenApiDocument } from "../src/openapi/document.ts";
import { apiDocument } from "./support/openapi.ts";

type Schema = OpenAPIV3_1.SchemaObject & { $ref?: string; items?: OpenAPIV3_1.SchemaObject };
type Media = OpenAPIV3_1.MediaTypeObject;

/** Words that name what a number counts or measures. */
const UNIT = /kWh|%|°C|\bV\b|seconds|bytes|ratio|count/i;

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

function operations(document: OpenApiDocument) {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((method) => item?.[method]).map((method) => ({
      where: `${method.toUpperCase()} ${path}`,
      operation: item?.[method] as OpenAPIV3_1.OperationObject,
    })),
  );
}

function resolve(document: OpenApiDocument, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  return (document.components?.schemas?.[name] ?? {}) as Schema;
}

const isNumeric = (schema: Schema): boolean => {
  const types = ([] as unknown[]).concat(schema.type ?? []);
  if (types.includes("number") || types.includes("integer")) return true;
  return [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].some((part) => isNumeric(part as Schema));
};

/** Every property below `schema` that lacks a description, or a unit when it is a number. */
function undescribed(document: OpenApiDocument, schema: Schema, where: string, seen = new Set<Schema>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const problems: string[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {}) as [string, Schema][]) {
    const description = property.description ?? resolve(document, property).description;
    if (!description) problems.push(`${where}.${name}: no description`);
    else if (isNumeric(resolve(document, property)) && !UNIT.test(description)) {
      problems.push(`${where}.${name}: no unit in "${description}"`);
    }
    problems.push(...undescribed(document, resolve(document, property), `${where}.${name}`, seen));
  }
  const children = [
    schema.items,
    ...(schema.anyOf ?? []),
    ...(schema.oneOf ?? []),
    ...(schema.allOf ?? []),
    typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined,
  ];
  for (const child of children) {
    if (child && typeof child === "object") {
      problems.push(...undescribed(document, resolve(document, child as Schema), where, seen));
    }
  }
  return problems;
}

/** The media type's example, wherever the document keeps it. */
function exampleOf(document: OpenApiDocument, media: Media): unknown {
  if (media.example !== undefined) return media.example;
  const first = Object.values(media.examples ?? {})[0] as OpenAPIV3_1.ExampleObject | undefined;
  if (first?.value !== undefined) return first.value;
  const schema = media.schema ? resolve(document, media.schema as Schema) : undefined;
  return schema?.examples?.[0] ?? (schema as { example?: unknown } | undefined)?.example;
}

function schemaValidator(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "openapi", components: document.components ?? {} });
  return (schema: Schema, value: unknown): string[] => {
    const text = JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/');
    const validate = ajv.compile(JSON.parse(text));
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "(body)"} ${e.message}`);
  };
}

describe("/openapi.json describes itself", () => {
  it("gives every field of every schema a description, and every number its unit", async () => {
    const document = await apiDocument();
    const problems = Object.entries(document.components?.schemas ?? {}).flatMap(([name, schema]) =>
      undescribed(document, schema as Schema, name),
    );
    for (const { where, operation } of operations(document)) {
      const bodies = Object.entries(
        (operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content ?? {},
      );
      for (const [type, media] of bodies) {
        problems.push(...undescribed(document, resolve(document, media.schema as Schema), `${where} ${type} body`));
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, media] of Object.entries((response as OpenAPIV3_1.ResponseObject).content ?? {})) {
          problems.push(
            ...undescribed(document, resolve(document, media.schema as Schema), `${where} ${status} ${type}`),
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("gives every parameter a description, and every path parameter an example", async () => {
    const document = await apiDocument();
    const problems: string[] = [];
    for (const { where, operation } of operations(document)) {
      for (const parameter of (operation.parameters ?? []) as OpenAPIV3_1.ParameterObject[]) {
        const schema = (parameter.schema ?? {}) as Schema;
        if (!parameter.description && !schema.description) problems.push(`${where} ${parameter.name}: no description`);
        const example = parameter.example ?? schema.examples?.[0];
        if (parameter.in === "path" && example === undefined) problems.push(`${where} ${parameter.name}: no example`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("gives every operation an example request body and an example of each successful answer, each valid", async () => {
    const document = await apiDocument();
    const check = schemaValidator(document);
    const problems: string[] = [];
    const hold = (where: string, media: Media) => {
      const example = exampleOf(document, media);
      if (example === undefined) problems.push(`${where}: no example`);
      else if (media.schema && (media.schema as Schema).type !== "string") {
        problems.push(...check(media.schema as Schema, example).map((problem) => `${where}: example ${problem}`));
      }
    };
    for (const { where, operation } of operations(document)) {
      const body = operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
      for (const [type, media] of Object.entries(body?.content ?? {})) hold(`${where} request ${type}`, media);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!status.startsWith("2")) continue;
        for (const [type, media] of Object.entries((response as OpenAPIV3_1.ResponseObject).content ?? {})) {
          hold(`${where} ${status} ${type}`, media);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("spells instants as format date-time, without zod's generated pattern", async () => {
    const text = JSON.stringify(await apiDocument());
    expect(text).toContain('"format":"date-time"');
    expect(text).not.toContain("[13579][26]00");
  });
});
