// API keys. A key reads `fk_<id>_<secret>`; only the SHA-256 of the secret is stored, the
// row is found by its id, and secrets (and the master key) are compared in constant time.
// Verified keys are cached for a few seconds so a busy ingest path does not query the
// database per request; a revocation clears the cache here at once and, through
// LISTEN/NOTIFY, in every other instance sharing the database.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import type { Db, Sql } from "../db/client.ts";
import { apiKeys } from "../db/schema.ts";

export const SCOPES = ["ingest", "read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  keyId: string;
  name: string;
  scopes: readonly Scope[];
}

const TOKEN = /^fk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const CHANNEL = "fleet_api_keys";
const CACHE_TTL_MS = 10_000;
const MAX_CACHED = 10_000;

const sha256 = (text: string) => createHash("sha256").update(text).digest();

export const MASTER: Principal = { keyId: "master", name: "master key", scopes: ["admin"] };

interface Cached {
  principal?: Principal;
  secretHash?: Buffer;
  expiresAt: number;
}

export class KeyStore {
  private readonly cache = new Map<string, Cached>();
  private readonly masterHash?: Buffer;

  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
    masterKey?: string,
  ) {
    this.masterHash = masterKey ? sha256(masterKey) : undefined;
  }

  /** Creates a key; the answer holds the only copy of its secret. */
  async create(name: string, scopes: Scope[]) {
    const id = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const [row] = await this.db
      .insert(apiKeys)
      .values({ id, name, scopes, secretHash: sha256(secret).toString("hex") })
      .returning();
    return { ...present(row as typeof apiKeys.$inferSelect), key: `fk_${id}_${secret}` };
  }

  async list() {
    const rows = await this.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
    return rows.map(present);
  }

  /** Revokes a key at once; false when there is no such key. */
  async revoke(id: string): Promise<boolean> {
    const [row] = await this.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(eq(apiKeys.id, id))
      .returning({ id: apiKeys.id });
    this.cache.delete(id);
    if (row) await this.sql.notify(CHANNEL, id).catch(() => {});
    return row !== undefined;
  }

  /** The principal a bearer token stands for, or undefined when it is no valid key. */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (this.masterHash && timingSafeEqual(sha256(token), this.masterHash)) return MASTER;
    const match = TOKEN.exec(token);
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const entry = await this.lookup(id);
    if (!entry.principal || !entry.secretHash) return undefined;
    return timingSafeEqual(sha256(secret), entry.secretHash) ? entry.principal : undefined;
  }

  /** Follows revocations made by other instances. */
  async listen(): Promise<void> {
    await this.sql.listen(CHANNEL, (id) => this.cache.delete(id));
  }

  private async lookup(id: string): Promise<Cached> {
    const cached = this.cache.get(id);
    if (cached && cached.expiresAt > Date.now()) return cached;
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    const entry: Cached =
      row && !row.revokedAt
        ? {
            principal: { keyId: row.id, name: row.name, scopes: row.scopes as Scope[] },
            secretHash: Buffer.from(row.secretHash, "hex"),
            expiresAt: Date.now() + CACHE_TTL_MS,
          }
        : { expiresAt: Date.now() + CACHE_TTL_MS }; // unknown ids are cached too
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(id, entry);
    return entry;
  }
}

function present(row: typeof apiKeys.$inferSelect) {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
