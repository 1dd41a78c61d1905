// Who may do what. With API_MASTER_KEY set, every /v1 request needs
// `Authorization: Bearer <key>`: 401 without a valid key, 403 with a key lacking the
// route's scope (admin may do everything). Without a master key the service is open, as
// Meilisearch is without its master key: start-up warns loudly, and production refuses.
// With a RefusalLimiter, refusals from one address past its limit are 429s (refusals.ts).
import type { MiddlewareHandler } from "hono";
import { AppError } from "../http/errors.ts";
import type { KeyStore, Principal, Scope } from "../keys/store.ts";
import type { RefusalLimiter } from "./refusals.ts";

declare module "hono" {
  interface ContextVariableMap {
    principal: Principal | undefined;
  }
}

const unauthorized = (message: string) =>
  new AppError(401, "unauthorized", message, undefined, { "WWW-Authenticate": 'Bearer realm="fleet-telemetry"' });

/** Resolves the bearer key into a principal, or answers 401 (429 past the refusal limit). */
export function authenticate(keys: KeyStore, refusals?: RefusalLimiter): MiddlewareHandler {
  return async (c, next) => {
    const address = c.get("clientAddress");
    const refuse = (message: string) => refusals?.refuse(address, unauthorized(message)) ?? unauthorized(message);
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw refuse("an API key is required: Authorization: Bearer <key>");
    const isKnownOnly = refusals?.isOver(address) ?? false;
    const principal = await keys.authenticate(match[1] as string, { isKnownOnly });
    if (!principal) throw refuse("the API key is not valid or has been revoked");
    c.set("principal", principal);
    await next();
  };
}

/** Answers 403 unless the authenticated key has `scope` (or admin); 429 past the refusal limit. */
export function requireScope(scope: Scope, refusals?: RefusalLimiter): MiddlewareHandler {
  return async (c, next) => {
    const scopes = c.get("principal")?.scopes ?? [];
    if (!scopes.includes(scope) && !scopes.includes("admin")) {
      const forbidden = new AppError(403, "forbidden", `this API key lacks the '${scope}' scope`);
      throw refusals?.refuse(c.get("clientAddress"), forbidden) ?? forbidden;
    }
    await next();
  };
}
