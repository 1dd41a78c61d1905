// zod at the edge: every body, param and query goes through `validate`, and a failure
// becomes a 400 whose details name each bad field (batch items by index), so a firmware
// engineer can see at once what to fix. The same schema is what /openapi.json shows for
// the request: it rides on the middleware as data, read only when the document is built,
// so validation itself runs exactly as before.
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import { resolver, uniqueSymbol } from "hono-openapi";
import type { z } from "zod";
import { AppError } from "./errors.ts";

export interface FieldProblem {
  field: string;
  message: string;
  /** For line-oriented bodies (NDJSON): the 1-based line the problem is on. */
  line?: number;
}

export function fieldName(path: readonly PropertyKey[]): string {
  let name = "";
  for (const key of path) {
    if (typeof key === "number") name += `[${key}]`;
    else name += name ? `.${String(key)}` : String(key);
  }
  return name || "(body)";
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  return issues.map((issue) => ({
    field: fieldName(issue.path),
    message: issue.code === "invalid_type" && /received undefined/.test(issue.message) ? "is required" : issue.message,
  }));
}

export function validationError(problems: FieldProblem[], what = "request"): AppError {
  const summary = problems
    .slice(0, 3)
    .map((problem) => `${problem.line ? `line ${problem.line}: ` : ""}${problem.field} ${problem.message}`)
    .join("; ");
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
  return new AppError(400, "validation_failed", `invalid ${what}: ${summary}${more}`, problems);
}

export const validate = <Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) =>
  Object.assign(
    zValidator(target, schema, (result) => {
      if (!result.success)
        throw validationError(describeIssues(result.error.issues), target === "json" ? "body" : target);
    }),
    { [uniqueSymbol]: { target, ...resolver(schema) } },
  );
