// Descriptions and examples of path and query parameters, by name, for the parameters whose
// zod schemas say nothing themselves: the analytics window and paging fields are shared
// by several routes (from, to, limit, offset), so one text per name describes them all. A
// parameter whose schema has its own description keeps it; an example is added only where
// the parameter has none.
import type { OpenAPIV3_1 } from "openapi-types";

const VEHICLE = "660e8400-e29b-41d4-a716-446655440000";
const METER = "550e8400-e29b-41d4-a716-446655440000";

const PARAMETERS: Record<string, { description: string; example: unknown }> = {
  vehicleId: { description: "The vehicle's id, a UUID (any case)", example: VEHICLE },
  meterId: { description: "The meter's id, a UUID (any case)", example: METER },
  id: { description: "The key's id, 16 hex digits", example: "3f9a1c0b7d2e4a65" },
  from: {
    description: "Start of the window, inclusive: ISO-8601 with a zone. Default: the window's default span before `to`",
    example: "2026-02-09T00:00:00Z",
  },
  to: {
    description: "End of the window, exclusive: ISO-8601 with a zone. Default: now",
    example: "2026-02-10T00:00:00Z",
  },
  bucket: { description: "The width of each point: hour (default) or day (a UTC day)", example: "hour" },
  limit: { description: "Items to answer at most (count)", example: 50 },
  offset: { description: "Items to skip before the first answered (count), for paging", example: 0 },
  active: { description: "true: only open links; false: only closed ones; default: both", example: "true" },
  unlinkedAt: {
    description: "When the link ends (ISO-8601 with a zone); default: now",
    example: "2026-02-10T08:00:00Z",
  },
};

type Parameter = OpenAPIV3_1.ParameterObject & { schema?: OpenAPIV3_1.SchemaObject };

/** Fills in what each parameter lacks: its description (from its schema, else by name) and an example. */
export function describeParameters(parameters: Parameter[] | undefined): void {
  for (const parameter of parameters ?? []) {
    const known = PARAMETERS[parameter.name];
    parameter.description ??= parameter.schema?.description ?? known?.description;
    if (parameter.example === undefined && parameter.schema?.examples === undefined && known) {
      parameter.example = known.example;
    }
  }
}
