// API keys. A key reads `fk_<id>_<secret>`; only the SHA-256 of the secret is stored, the
// row is found by its id, and secrets (and the master key) are compared in constant time.
// Verified keys are cached for a few seconds so a busy ingest path does not query the
// database per request; a revocation clears the cache here at once and, through
// LISTEN/NOTIFY, in every other instance sharing the database. Ids found to be no key are
// remembered apart, in a bounded LRU, so a flood of made-up ids neither repeats its lookups
// nor pushes a valid key out; ids never verified here are looked up a few at a time, so
// made-up ids from many addresses at once cannot take the pool from writes.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import pLimit, { type LimitFunction } from "p-limit";
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
const MAX_VERIFIED = 10_000;
const MAX_UNKNOWN = 10_000;
const MAX_FIRST_LOOKUPS = 2;

const sha256 = (text: string) => createHash("sha256").update(text).digest();

export const MASTER: Principal = { keyId: "master", name: "master key", scopes: ["admin"] };

interface Verified {
  principal: Principal;
  secretHash: Buffer;
  /** Looked up again after this; until then revocations arrive by NOTIFY. */
  expiresAt: number;
}

export interface KeyStoreOptions {
  /** The clock the caches' lifetimes run on (milliseconds). */
  now?: () => number;
  /** How many ids found to be no key are remembered (least recently seen forgotten first). */
  maxUnknown?: number;
  /** How many ids never verified here may be looked up at once; the rest wait their turn. */
  maxFirstLookups?: number;
}

export interface AuthenticateOptions {
  /** Check only ids this instance has verified before: no database lookup for others. */
  isKnownOnly?: boolean;
}

export class KeyStore {
  // Kept past expiry (only re-checked), so "verified before" outlives the TTL.
  private readonly verified = new LRUCache<string, Verified>({ max: MAX_VERIFIED });
  private readonly unknown: LRUCache<string, true>;
  private readonly firstLookups: LimitFunction;
  private readonly masterHash?: Buffer;
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
    masterKey?: string,
    options: KeyStoreOptions = {},
  ) {
    this.masterHash = masterKey ? sha256(masterKey) : undefined;
    this.now = options.now ?? Date.now;
    this.unknown = new LRUCache({
      max: options.maxUnknown ?? MAX_UNKNOWN,
      ttl: CACHE_TTL_MS,
      perf: { now: this.now },
    });
    this.firstLookups = pLimit(options.maxFirstLookups ?? MAX_FIRST_LOOKUPS);
  }

  /** Lookups of ids never verified here that wait for their turn. */
  get waitingLookups(): number {
    return this.firstLookups.pendingCount;
  }

  /** Creates a key; the answer holds the only copy of its secret. */
  async create(name: string, scopes: Scope[]) {
    const id = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const [row] = await this.db
      .insert(apiKeys)
      .values({ id, name, scopes, secretHash: sha256(secret).toString("hex") })
      .returning();
    this.unknown.delete(id);
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
    this.verified.delete(id);
    if (row) await this.sql.notify(CHANNEL, id).catch(() => {});
    return row !== undefined;
  }

  /** The principal a bearer token stands for, or undefined when it is no valid key. */
  async authenticate(token: string, options: AuthenticateOptions = {}): Promise<Principal | undefined> {
    if (this.masterHash && timingSafeEqual(sha256(token), this.masterHash)) return MASTER;
    const match = TOKEN.exec(token);
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    if (options.isKnownOnly && !this.verified.has(id)) return undefined;
    const entry = await this.lookup(id);
    if (!entry) return undefined;
    return timingSafeEqual(sha256(secret), entry.secretHash) ? entry.principal : undefined;
  }

  /** Follows revocations made by other instances. */
  async listen(): Promise<void> {
    await this.sql.listen(CHANNEL, (id) => this.verified.delete(id));
  }

  private async lookup(id: string): Promise<Verified | undefined> {
    const cached = this.verified.get(id);
    if (cached && cached.expiresAt > this.now()) return cached;
    if (this.unknown.has(id)) return undefined;
    const select = () => this.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    // A key verified before is re-checked at once: only first lookups queue.
    const [row] = cached ? await select() : await this.firstLookups(select);
    if (!row || row.revokedAt) {
      this.verified.delete(id);
      this.unknown.set(id, true);
      return undefined;
    }
    const entry: Verified = {
      principal: { keyId: row.id, name: row.name, scopes: row.scopes as Scope[] },
      secretHash: Buffer.from(row.secretHash, "hex"),
      expiresAt: this.now() + CACHE_TTL_MS,
    };
    this.verified.set(id, entry);
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
