// Why the database DATABASE_URL names could not be used at start-up, as one line that names
// the setting and says what to change: the driver's own errors (ECONNREFUSED, a SQLSTATE)
// say neither. The password never appears; host, port, database and user do.
import { ConfigError } from "../config.ts";

interface DriverError {
  code?: string;
  errno?: string;
  message?: string;
}

/** Where DATABASE_URL points, without its password. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port || "5432";
  const database = decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username);
  return `${decodeURIComponent(parsed.username) || "(no user)"}@${parsed.hostname}:${port}/${database}`;
}

/** The start-up failure on DATABASE_URL's database, in one line naming the setting. */
export function databaseUrlFailure(error: unknown, url: string, setting = "DATABASE_URL"): ConfigError {
  const { code, errno, message } = (error ?? {}) as DriverError;
  const where = describeUrl(url);
  const parsed = new URL(url);
  const host = `${parsed.hostname}:${parsed.port || "5432"}`;
  const serverSaid = (message ?? String(error)).split("\n")[0];
  const reason = ((): string => {
    switch (code ?? errno) {
      case "ECONNREFUSED":
        return `nothing accepts connections at ${host}: start that PostgreSQL server, or correct the host and port in ${setting}`;
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return `the host ${parsed.hostname} is not known: correct the host in ${setting}`;
      case "CONNECT_TIMEOUT":
      case "ETIMEDOUT":
        return `${host} did not answer within DATABASE_CONNECT_TIMEOUT_SECONDS: check that the server is up and reachable from here, or correct ${setting}`;
      case "ECONNRESET":
      case "CONNECTION_CLOSED":
        return `${host} closed the connection (${serverSaid}): check that it is a PostgreSQL server and that ${setting}'s sslmode suits it`;
      case "28P01":
      case "28000":
        return `the server refused the login (${serverSaid}): correct the user or password in ${setting}`;
      case "3D000":
        return `the database does not exist (${serverSaid}): create it, or correct the database name in ${setting}`;
      case "42501":
        return `the user may not create the service's tables (${serverSaid}): grant it rights on the database, or use another user in ${setting}`;
      default:
        return `${serverSaid}${code ? ` (${code})` : ""}: check ${setting}`;
    }
  })();
  return new ConfigError(`cannot use the database ${setting} names (${where}): ${reason}`);
}
