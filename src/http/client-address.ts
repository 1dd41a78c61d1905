// Who is asking, by network address: what per-address limits count and refusal logs show.
// The server that runs the app hands in the peer's address as an env binding, keeping
// Bun's API out of the app. Behind a reverse proxy that peer is the proxy, so with
// CLIENT_ADDRESS_HEADER set the address is taken from the header the proxy writes instead;
// only then, since any client can send any header. Limits count an IPv6 client by its
// /64, the block one subscriber is given: it could otherwise take a new address per request.
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

/** What per-address limits count by: an IPv4 address, or an IPv6 address's /64 prefix. */
export function limitKey(address: string): string {
  const ipv6 = address.replace(/%.*$/, "").toLowerCase();
  if (!ipv6.includes(":")) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ipv6);
  if (mapped) return mapped[1] as string;
  const [head = "", tail, ...rest] = ipv6.split("::");
  const groups = (text: string | undefined) => (text ? text.split(":") : []);
  const known = [...groups(head), ...groups(tail)];
  if (rest.length > 0 || known.length > 8 || !known.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return address;
  const zeros = tail === undefined ? [] : Array(8 - known.length).fill("0");
  const full = [...groups(head), ...zeros, ...groups(tail)];
  if (full.length !== 8) return address;
  return `${full
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}
