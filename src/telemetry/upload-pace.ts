// The pace an upload's body must keep. The server's own idle timeout cannot serve uploads
// (Bun's, from uWS, only counts a connection as busy after 16 KB arrive within it, so a
// steady 10 KB/s upload looks idle and is cut with no answer), so upload routes turn it
// off and watch the body here instead: a body that sends nothing for `idleSeconds`, or
// less than `minBytesPerSecond` on average over the last `windowSeconds`, is cut with a
// 408 the client can read. Only bytes the route has taken count, and the route takes them
// as fast as they come (it holds no database connection while it reads).
import { AppError } from "../http/errors.ts";

export interface UploadPace {
  minBytesPerSecond: number;
  windowSeconds: number;
  idleSeconds: number;
}

const cut = (code: string, message: string) => new AppError(408, code, message, undefined, { Connection: "close" });

export interface WatchedBody {
  body: ReadableStream<Uint8Array>;
  /** Why the body was cut, once it was. */
  cutBy(): AppError | undefined;
  /** Stops watching (the route is done with the body, read or not). */
  stop(): void;
}

export function watchPace(
  source: ReadableStream<Uint8Array>,
  pace: UploadPace,
  now = () => performance.now(),
): WatchedBody {
  const reader = source.getReader();
  const started = now();
  const windowMs = pace.windowSeconds * 1000;
  const idleMs = pace.idleSeconds * 1000;
  let total = 0;
  let lastByteAt = started;
  // Bytes received so far at each tick, oldest first, reaching back one window.
  const samples: { at: number; total: number }[] = [{ at: started, total: 0 }];
  let error: AppError | undefined;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  const check = () => {
    const at = now();
    samples.push({ at, total });
    while (samples.length > 1 && (samples[1] as { at: number }).at <= at - windowMs) samples.shift();
    if (at - lastByteAt >= idleMs) {
      return fail(cut("upload_idle", `no part of the body arrived for ${pace.idleSeconds} s; the upload was cut`));
    }
    const oldest = samples[0] as { at: number; total: number };
    if (at - started >= windowMs && total - oldest.total < pace.minBytesPerSecond * ((at - oldest.at) / 1000)) {
      fail(
        cut(
          "upload_too_slow",
          `the body arrived slower than ${pace.minBytesPerSecond} bytes/s over the last ${pace.windowSeconds} s; the upload was cut`,
        ),
      );
    }
  };
  const timer = setInterval(check, Math.max(50, Math.min(1_000, idleMs / 4, windowMs / 4)));

  function stop() {
    clearInterval(timer);
  }
  function fail(reason: AppError) {
    stop();
    error = reason;
    controller?.error(reason);
    reader.cancel(reason).catch(() => {});
  }

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull(c) {
      const next = await reader.read().catch((failure) => {
        stop();
        throw error ?? failure;
      });
      if (error) return;
      if (next.done) {
        stop();
        return c.close();
      }
      total += next.value.byteLength;
      lastByteAt = now();
      c.enqueue(next.value);
    },
    cancel(reason) {
      stop();
      return reader.cancel(reason);
    },
  });
  return { body, cutBy: () => error, stop };
}
