// `bun run keys create --name NAME --scopes ingest,read | list | revoke ID`: API keys from
// the command line, on the same database the service uses (DATABASE_URL, or the embedded
// server: the running one when the service is up, else started for the command). A
// DATA_DIR with no database is refused rather than given a new, empty one: keys made
// there would never reach the service. Which database was used goes to stderr.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config.ts";
import { createDb, createSql } from "../db/client.ts";
import { describeUrl } from "../db/connect-failure.ts";
import { type Database, openDatabase } from "../db/database.ts";
import { findRunning } from "../db/embedded-postgres.ts";
import { newKeySchema } from "../keys/routes.ts";
import { KeyStore } from "../keys/store.ts";

const USAGE = `usage:
  bun run keys create --name NAME --scopes ingest,read,admin
  bun run keys list
  bun run keys revoke ID

Uses DATABASE_URL when set, else the embedded database in $DATA_DIR/postgres (default
.data): the running service's, or started for the command. Which one is printed on stderr.`;

async function connect(): Promise<Pick<Database, "sql" | "db" | "close">> {
  const config = loadConfig();
  if (config.DATABASE_URL) console.error(`keys: using DATABASE_URL (${describeUrl(config.DATABASE_URL)})`);
  const dataDir = resolve(config.DATA_DIR, "postgres");
  const running = config.DATABASE_URL ? undefined : await findRunning(dataDir);
  if (running) {
    console.error(`keys: using the running service's database in ${dataDir} (port ${running.port})`);
    const url = new URL(running.url);
    url.pathname = "/fleet";
    const sql = createSql({ url: url.toString(), poolSize: 2, connectTimeoutSeconds: 5 });
    return { sql, db: createDb(sql), close: () => sql.end() };
  }
  if (!config.DATABASE_URL) {
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      throw new ConfigError(
        `no database in ${dataDir}: set DATA_DIR to the service's data directory (it is ${config.DATA_DIR}), ` +
          "set DATABASE_URL to its server, or start the service once (bun run start) to create it",
      );
    }
    console.error(`keys: using the embedded database in ${dataDir} (started for this command)`);
  }
  return openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    embeddedPort: config.EMBEDDED_PG_PORT,
    poolSize: 2,
    connectTimeoutSeconds: config.DATABASE_CONNECT_TIMEOUT_SECONDS,
  });
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArguments>;
  try {
    parsed = parseArguments(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
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

function parseArguments(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: "string" }, scopes: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
}

process.exitCode = await main(process.argv.slice(2)).catch((error) => {
  console.error(`keys: ${error instanceof Error ? `${error.message}${error.cause ? `: ${error.cause}` : ""}` : error}`);
  return 1;
});
