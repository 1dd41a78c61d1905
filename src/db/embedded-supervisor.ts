// Keeps the service's embedded PostgreSQL running: when the server dies on its own (killed,
// crashed, out of memory) it is started again on the same data directory, after a pause
// that doubles with each failed try, up to a bound, and falls back to the first once a
// server has stayed up a while. Meanwhile the pool's queries fail fast, so requests get
// 503 and /readyz answers 503; the pool reconnects by itself once the server is back.
// Stopping the service stops the supervision first, so its own shutdown is never "a death".
import type { Logger } from "../log.ts";

/** A running server: its process id, and a promise settled when it exits. */
export interface LaunchedServer {
  pid: number | undefined;
  exited: Promise<ServerExit>;
  /** Asks the server to stop and waits until it has. */
  terminate(): Promise<void>;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Backoff {
  /** The pause before the first try after a death. */
  initialMs: number;
  /** The longest pause between tries. */
  maxMs: number;
  /** A server up this long has recovered: the next death starts again from initialMs. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 30_000, stableMs: 60_000 };

export interface SupervisorOptions {
  /** Starts the server again; answers once it accepts connections. */
  launch: () => Promise<LaunchedServer>;
  log: Logger;
  backoff?: Backoff;
  /** Told after each restart that brought the server back. */
  onRestart?: () => void;
}

export class Supervisor {
  private current: LaunchedServer;
  private startedAt = performance.now();
  private delayMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private launching: Promise<LaunchedServer | undefined> | undefined;
  private isStopping = false;
  private readonly backoff: Backoff;

  constructor(
    first: LaunchedServer,
    private readonly options: SupervisorOptions,
  ) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.delayMs = this.backoff.initialMs;
    this.current = first;
    this.watch(first);
  }

  /** Stops supervising, then stops the server (or the one being started). */
  async stop(): Promise<void> {
    this.isStopping = true;
    clearTimeout(this.timer);
    const launched = await this.launching;
    await (launched ?? this.current).terminate();
  }

  private watch(server: LaunchedServer) {
    void server.exited.then((exit) => {
      if (this.isStopping || server !== this.current) return;
      const upMs = performance.now() - this.startedAt;
      if (upMs >= this.backoff.stableMs) this.delayMs = this.backoff.initialMs;
      this.options.log.error(
        { pid: server.pid, code: exit.code, signal: exit.signal, retryInMs: this.delayMs },
        "the embedded PostgreSQL exited on its own; restarting it",
      );
      this.schedule();
    });
  }

  private schedule() {
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.backoff.maxMs, this.delayMs * 2);
    this.timer = setTimeout(() => void this.restart(), delayMs);
  }

  private async restart() {
    if (this.isStopping) return;
    this.launching = this.options.launch().catch((error) => {
      this.options.log.error(
        { err: error, retryInMs: this.delayMs },
        "the embedded PostgreSQL did not start again; trying later",
      );
      return undefined;
    });
    const server = await this.launching;
    this.launching = undefined;
    if (!server) {
      if (!this.isStopping) this.schedule();
      return;
    }
    this.current = server;
    this.startedAt = performance.now();
    if (this.isStopping) return; // stop() is terminating it
    this.options.log.info({ pid: server.pid }, "the embedded PostgreSQL is running again");
    this.options.onRestart?.();
    this.watch(server);
  }
}
