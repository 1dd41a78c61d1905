// What the entry point checks before it starts the database, and how a failed start is
// told: one line naming the setting and what to do, never a stack trace. The HTTP port is
// tried first, so a port in use stops the start at once rather than after the database
// has started and migrated.
import { createServer } from "node:net";
import { ConfigError } from "./config.ts";

/** HOST:PORT as the service cannot listen there, as a setting to change. */
export function listenFailure(host: string, port: number, error: unknown): ConfigError {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code === "EADDRINUSE" || /in use/i.test(message ?? "")) {
    return new ConfigError(
      `port ${port} on ${host} is already in use by another program: set PORT to a free port, or stop the program using it`,
    );
  }
  if (code === "EACCES") {
    return new ConfigError(`this user may not listen on port ${port}: set PORT to 1024 or above`);
  }
  return new ConfigError(
    `cannot listen on ${host}:${port} (${code ?? message ?? error}): set HOST to an address of this machine ` +
      "(0.0.0.0 for all of them, 127.0.0.1 for this machine only)",
  );
}

/**
 * Listens on HOST:PORT and lets go at once: a port in use or a HOST that is no address of
 * this machine is found before anything else starts. (Another program could still take
 * the port in the moment before the service listens; that failure is told the same way.)
 */
export function checkListenable(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error) => reject(listenFailure(host, port, error)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** A failed start as the one line an operator reads: the message, never the stack. */
export function describeStartupFailure(error: unknown): string {
  if (error instanceof ConfigError) {
    // Several bad settings come as a heading and a line each: kept on one line.
    const [heading, ...lines] = error.message
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    return lines.length ? `${heading} ${lines.join("; ")}` : (heading ?? "");
  }
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split("\n").find((line) => line.trim()) ?? "unknown error";
  return `${firstLine.trim()} (unexpected; LOG_LEVEL=debug logs the details)`;
}
