// A migration, once committed, is history: databases out there have applied it and record
// its hash. A fix is a new migration, never an edit. Each migration's SHA-256 is written in
// test/migration-hashes.json when it is added; this test holds every file to it.
import { describe, expect, it } from "bun:test";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MIGRATIONS_FOLDER } from "../src/db/migrate.ts";
import recorded from "./migration-hashes.json" with { type: "json" };

const journal: { entries: { tag: string }[] } = JSON.parse(
  await readFile(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"),
);
const hashOf = async (tag: string) =>
  createHash("sha256")
    .update(await readFile(join(MIGRATIONS_FOLDER, `${tag}.sql`)))
    .digest("hex");
const hashes: Record<string, string> = recorded;

describe("committed migrations", () => {
  it("are each recorded with the hash they had when they were added", async () => {
    const unrecorded = journal.entries.map((entry) => entry.tag).filter((tag) => !(tag in hashes));
    expect(unrecorded, "record a new migration's hash in test/migration-hashes.json").toEqual([]);
  });

  it("are never edited: every file still has its recorded hash", async () => {
    const changed: string[] = [];
    for (const [tag, hash] of Object.entries(hashes)) if ((await hashOf(tag)) !== hash) changed.push(tag);
    expect(changed, "a committed migration changed; put the fix in a new migration instead").toEqual([]);
  });

  it("are never removed or renamed: every recorded migration is in the journal and on disk", async () => {
    const files = new Set((await readdir(MIGRATIONS_FOLDER)).filter((file) => file.endsWith(".sql")));
    const tags = new Set(journal.entries.map((entry) => entry.tag));
    const missing = Object.keys(hashes).filter((tag) => !tags.has(tag) || !files.has(`${tag}.sql`));
    expect(missing).toEqual([]);
  });
});
