// Key management (admin only): POST /v1/keys creates a key and shows its secret once,
// GET /v1/keys lists keys without secrets, DELETE /v1/keys/:id revokes one at once.
import { Hono } from "hono";
import { z } from "zod";
import { notFound } from "../http/errors.ts";
import { limitBody, requireJson } from "../http/middleware.ts";
import { validate } from "../http/validate.ts";
import { type KeyStore, SCOPES } from "./store.ts";

export const newKeySchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .describe("What the key is for, e.g. the gateway or dashboard that holds it"),
  scopes: z
    .array(z.enum(SCOPES, { error: `must be one of ${SCOPES.join(", ")}` }))
    .min(1, "needs at least one scope")
    .transform((scopes) => [...new Set(scopes)])
    .describe("What the key may do: ingest (send readings), read (state, links, analytics), admin (everything)"),
});

const keyIdSchema = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{16}$/, "must be a key id (16 hex digits)")
    .describe("The key's id, 16 hex digits"),
});

export function keyRoutes(keys: KeyStore) {
  return new Hono()
    .post("/", requireJson, limitBody(4096), validate("json", newKeySchema), async (c) => {
      const { name, scopes } = c.req.valid("json");
      return c.json(await keys.create(name, scopes), 201);
    })
    .get("/", async (c) => c.json({ keys: await keys.list() }))
    .delete("/:id", validate("param", keyIdSchema), async (c) => {
      const { id } = c.req.valid("param");
      if (!(await keys.revoke(id))) throw notFound(`no key ${id}`);
      return c.json({ id, revoked: true });
    });
}
