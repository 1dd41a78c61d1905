// `bun run keys create --name NAME --scopes ingest,read | list | revoke ID`: API keys from
// the command line, on the same database the service uses (DATABASE_URL, or the embedded
// server: the running one when the service is up, else started for the command).
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KeyStore } from "../auth/keys.ts";
import { newKeySchema } from "../auth/routes.ts";
import { loadConfig } from "../config.ts";
import { createDb, createSql } from "../db/client.ts";
import { type Database, openDatabase } from "../db/database.ts";
import { findRunning } from "../db/embedded-postgres.ts";

const USAGE = `usage:
  bun run keys create --name NAME --scopes ingest,read,admin
  bun run keys list
  bun run keys revoke ID`;

async function connect(): Promise<Pick<Database, "sql" | "db" | "close">> {
  const config = loadConfig();
  const running = config.DATABASE_URL ? undefined : await findRunning(join(config.DATA_DIR, "postgres"));
  if (running) {
    const url = new URL(running.url);
    url.pathname = "/fleet";
    const sql = createSql({ url: url.toString(), poolSize: 2, connectTimeoutSeconds: 5 });
    return { sql, db: createDb(sql), close: () => sql.end() };
  }
  return openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    embeddedPort: config.EMBEDDED_PG_PORT,
    poolSize: 2,
    connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
    log: () => {},
  });
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: "string" }, scopes: { type: "string" } },
  });
  const [command, id] = positionals;
  if (!command || !["create", "list", "revoke"].includes(command) || (command === "revoke" && !id)) {
    console.error(USAGE);
    return 2;
  }
  const input = newKeySchema.safeParse({ name: values.name, scopes: values.scopes?.split(",") ?? [] });
  if (command === "create" && !input.success) {
    console.error(`invalid key: ${input.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
    console.error(USAGE);
    return 2;
  }
  const database = await connect();
  try {
    const keys = new KeyStore(database.db, database.sql);
    if (command === "create" && input.success) {
      const created = await keys.create(input.data.name, input.data.scopes);
      console.log(JSON.stringify(created, null, 2));
      console.error("Keep the key now: it is not stored and cannot be shown again.");
    } else if (command === "list") {
      console.log(JSON.stringify(await keys.list(), null, 2));
    } else if (command === "revoke" && id) {
      if (!(await keys.revoke(id))) {
        console.error(`no key ${id}`);
        return 1;
      }
      console.log(`revoked ${id}`);
    }
    return 0;
  } finally {
    await database.close();
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? `${error.message}${error.cause ? `: ${error.cause}` : ""}` : error);
  return 1;
});
