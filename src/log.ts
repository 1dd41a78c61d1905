// Structured JSON logs, one object a line, at the level LOG_LEVEL sets.
import pino from "pino";

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "fleet-telemetry" }, timestamp: pino.stdTimeFunctions.isoTime });
}
