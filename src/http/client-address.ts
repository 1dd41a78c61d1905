// Who is asking, by network address: what per-address limits count and refusal logs show.
// The server that runs the app hands in the peer's address as an env binding, keeping
// Bun's API out of the app. Behind a reverse proxy that peer is the proxy, so with
// CLIENT_ADDRESS_HEADER set the address is taken from the header the proxy writes instead;
// only then, since any client can send any header.
import type { MiddlewareHandler } from "hono";

export interface ClientEnv {
  /** The peer's address, given by the server that runs the app. */
  clientAddress?: string;
}

declare module "hono" {
  interface ContextVariableMap {
    /** The client's address as resolved below; "unknown" when nothing says. */
    clientAddress: string;
  }
}

/**
 * Sets `clientAddress`: from `trustedHeader` when given (for X-Forwarded-For, the last
 * entry, the one the nearest proxy appended), else from the server's binding.
 */
export function resolveClientAddress(trustedHeader?: string): MiddlewareHandler<{ Bindings: ClientEnv }> {
  const header = trustedHeader?.toLowerCase();
  return async (c, next) => {
    const forwarded = header ? c.req.header(header)?.split(",").at(-1)?.trim() : undefined;
    c.set("clientAddress", forwarded || c.env?.clientAddress || "unknown");
    await next();
  };
}
