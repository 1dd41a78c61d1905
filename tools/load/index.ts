// `bun run load -- <mode> ...`: the command-line entry. Parses the options, runs the mode
// against the real fetch, prints the report, and exits 0 only when every request was
// acknowledged and every vehicle's analytics match what was sent. Ctrl-C once stops
// sending and still verifies what went out; twice exits at once.
// Not built on bench/'s generators: a check retries a 503 (a replay is stored once) and caps what is in flight.
import { countSimulatedMinutes, parseCommandLine, USAGE } from "./cli-options.ts";
import { MINUTE_MS } from "./fleet.ts";
import { formatReport } from "./report.ts";
import { chooseStart, runLoad } from "./run.ts";

// The server refuses timestamps more than this far ahead of its clock.
const SERVER_FUTURE_SKEW_MS = 5 * 60_000;

async function main(): Promise<number> {
  const parsed = parseCommandLine(process.argv.slice(2));
  if (parsed.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  if (parsed.kind === "error") {
    console.error(`load: ${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  const { options } = parsed;
  const start = chooseStart(options, new Date());
  const lastMinuteMs = start.getTime() + (countSimulatedMinutes(options) - 1) * MINUTE_MS;
  if (lastMinuteMs > Date.now() + SERVER_FUTURE_SKEW_MS) {
    console.error("load: warning: the run reaches past now + 5 min; the server will refuse those readings");
  }
  console.log(`load: seed ${options.seed}, first simulated minute ${start.toISOString()}`);

  const controller = new AbortController();
  process.on("SIGINT", () => {
    if (controller.signal.aborted) process.exit(130);
    console.error("\nload: stopping; verifying what was sent (Ctrl-C again to quit now)");
    controller.abort();
  });

  const report = await runLoad(options, { fetch, signal: controller.signal });
  for (const line of formatReport(report)) console.log(line);
  return report.isSuccess ? 0 : 1;
}

process.exit(await main());
