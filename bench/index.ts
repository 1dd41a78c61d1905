// `bun run bench`: starts the service on a fresh embedded database (or a fresh database on
// --postgres, or uses --url), drives it through the scenarios of bench/scenarios.ts,
// checks that the database holds exactly the readings that were answered "stored", and
// prints a Markdown report (also written to bench/results/latest.md). Exits 1 when the
// check fails or any request failed, so a broken write path cannot hide behind a
// good-looking table.
// With --analytics it then builds a large store straight into the database
// (bench/fleet-store.ts) and measures the analytics queries while the nominal ingest runs
// (bench/analytics.ts), checking their answers against sums over the raw rows.
// Not built on tools/load's sender: a benchmark counts a 503 rather than retrying it, and its open loop caps nothing in flight.
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { type AnalyticsCheck, checkAnalytics, runAnalyticsScenarios } from "./analytics.ts";
import { type CpuUsage, measureCpuUsage, takeCpuSnapshot } from "./cpu-accounting.ts";
import { countRollupReadings, countStoredRows, readPostgresVersion, settleDatabase } from "./database-probe.ts";
import { type FleetStore, generateFleetStore } from "./fleet-store.ts";
import { createTally, hasFailures } from "./load-result.ts";
import { describeCode, describeMachine, readLoadAverage } from "./machine.ts";
import { parseOptions } from "./options.ts";
import { computeBaseEpochSeconds } from "./readings.ts";
import { formatCheckLine, formatReport, type RowCheck } from "./report.ts";
import { closeBacklogReads, readBacklog } from "./rollup-backlog.ts";
import { startRssSampler } from "./rss-sampler.ts";
import { defineScenarios, runScenario, type ScenarioRuns } from "./scenarios.ts";
import { REPO_ROOT, type RunningService, startService } from "./service.ts";
import { readWrkVersion, resolveWrk } from "./wrk-runner.ts";

const log = (line: string) => console.error(`[bench] ${line}`);

async function runBench(): Promise<number> {
  const options = parseOptions(Bun.argv.slice(2));
  const loadAverage = readLoadAverage(); // before the service's start-up adds its own
  const code = describeCode(REPO_ROOT); // what the service is started from: the work tree now
  // Before the service starts: --generator wrk without wrk fails at once, and an install runs alone.
  const wrk =
    options.generator === "bun" || options.analyticsOnly
      ? undefined
      : resolveWrk(options.generator, options.installWrk, log);
  const service = options.url ? undefined : await startService(log, options.postgresUrl);
  stopServiceOnInterrupt(service);
  try {
    const url = options.url ?? (service as RunningService).url;
    const databaseUrl = service ? service.databaseUrl : options.databaseUrl;
    if (options.analytics && !databaseUrl) throw new Error("--analytics with --url needs --database-url");
    const rowsBefore = databaseUrl ? await countStoredRows(databaseUrl) : undefined;
    const machine = describeMachine(
      databaseUrl ? await readPostgresVersion(databaseUrl) : "PostgreSQL: unknown",
      loadAverage,
    );
    const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    const context = { url, wrk, wrkThreads: machine.cores, baseSeconds: computeBaseEpochSeconds(), headers };

    // A service that updates its rollups inside each request reports no backlog: nothing is
    // ever pending there, and the drain waits cost nothing.
    const isBacklogReported = options.analyticsOnly
      ? undefined
      : (await readBacklog({ url, headers, databaseUrl })).isReported;
    const sampler = service ? startRssSampler(service.pid) : undefined;
    const tally = createTally();
    const scenarios: ScenarioRuns[] = [];
    const settle = async () => {
      if (databaseUrl) log(`settling the database: ${await settleDatabase(databaseUrl)}`);
    };
    // CPU is accounted over the scenarios only, not over the store's generation.
    const cpuParts: (CpuUsage | undefined)[] = [];
    const measured = async (phase: () => Promise<void>) => {
      const cpuStart = takeCpuSnapshot();
      const start = performance.now();
      await phase();
      cpuParts.push(measureCpuUsage(cpuStart, (performance.now() - start) / 1000));
    };
    if (!options.analyticsOnly) {
      await measured(async () => {
        const backlog = { context: { url, headers, databaseUrl }, drainLimitMs: options.drainLimitSeconds * 1000 };
        for (const scenario of defineScenarios(context, options.scenarios)) {
          await settle();
          scenarios.push(await runScenario(scenario, options, backlog, tally, log));
          if (service?.hasExited()) throw new Error("the service exited during the bench");
        }
      });
    }
    let store: FleetStore | undefined;
    let analyticsCheck: AnalyticsCheck | undefined;
    let analyticsFailures = 0;
    if (options.analytics && databaseUrl) {
      store = await generateFleetStore(
        databaseUrl,
        {
          vehicles: options.vehicles,
          days: options.fleetDays,
          historyVehicles: options.historyVehicles,
          historyDays: 30,
        },
        log,
      );
      const analyticsContext = { url, headers, databaseUrl, store };
      await measured(async () => {
        const rows = await runAnalyticsScenarios(analyticsContext, options, tally, log, settle);
        scenarios.push(...rows);
        analyticsFailures = rows.reduce((sum, row) => sum + row.failures, 0);
      });
      if (service?.hasExited()) throw new Error("the service exited during the bench");
      analyticsCheck = await checkAnalytics(analyticsContext, log);
      for (const mismatch of analyticsCheck.mismatches) log(`MISMATCH: ${mismatch}`);
    }
    const peakRssBytes = sampler?.stop();
    const cpu = sumCpuUsage(cpuParts);

    let check: RowCheck | undefined;
    if (databaseUrl && rowsBefore !== undefined) {
      // A request without an answer may still commit: give it a moment before counting.
      if (tally.unanswered > 0) await Bun.sleep(2000);
      const rowsStored = (await countStoredRows(databaseUrl)) - rowsBefore - (store?.rawRows ?? 0);
      // Every stored reading is counted once by the hourly rollups or still pending for them.
      const rollups = await countRollupReadings(databaseUrl);
      check = {
        rowsStored,
        answeredStored: tally.readingsStored,
        isMatch: rowsStored === tally.readingsStored,
        rollups: { ...rollups, isMatch: rollups.rolledUp + rollups.pending === rollups.rawRows },
      };
    }

    const generators = options.analyticsOnly
      ? "every scenario by the built-in Bun generator"
      : wrk
        ? `single readings by ${readWrkVersion(wrk)} (${machine.cores} threads), batches and the nominal load by the built-in Bun generator`
        : "every scenario by the built-in Bun generator";
    const target = service
      ? `\`bun src/index.ts\` at ${code} on a fresh ${options.postgresUrl ? "database of the given PostgreSQL server" : "embedded PostgreSQL"}, DATABASE_POOL_SIZE=${process.env.DATABASE_POOL_SIZE || "10 (default)"}, ${describeRollupSettings()}, durable commits on`
      : `the instance at ${url}`;
    const setup =
      `${options.runs} × ${options.durationSeconds} s per scenario after a ${options.warmupSeconds} s warm-up, median shown; ` +
      `${databaseUrl ? "before each scenario the database settles (autovacuum done, CHECKPOINT); " : ""}` +
      `${generators}; server: ${target}; ` +
      "server, database and load generator share the machine" +
      (isBacklogReported === undefined ? "" : describeBacklogMethod(isBacklogReported));
    const report = formatReport({
      date: new Date(),
      machine,
      setup,
      scenarios,
      peakRssBytes,
      cpu,
      tally,
      check,
      store,
      analyticsCheck,
    });
    console.log(report);
    await mkdir(dirname(options.resultsPath), { recursive: true });
    await Bun.write(options.resultsPath, report);
    log(`report written to ${options.resultsPath}`);
    if (check) console.log(formatCheckLine(check));

    const isAnalyticsWrong = analyticsFailures > 0 || (analyticsCheck?.mismatches.length ?? 0) > 0;
    const isCheckWrong = check !== undefined && (!check.isMatch || check.rollups?.isMatch === false);
    const isFailed = hasFailures(tally) || isCheckWrong || isAnalyticsWrong;
    if (isFailed) {
      log(
        "FAILED: some requests were not answered 2xx, the rows stored do not match the 2xx answers " +
          "or the rollups' counts, or an analytics answer differs from the raw rows",
      );
      if (service) console.error(await service.readLogTail());
    }
    if (options.keep && service) {
      log(`--keep: the service runs at ${url}, its database at ${service.databaseUrl}`);
      log(
        `  e.g. bun bench/explain-analytics.ts '${service.databaseUrl}'; Ctrl-C stops both and removes ${service.dataDir}`,
      );
      await new Promise(() => setInterval(() => {}, 60_000)); // until SIGINT/SIGTERM (stopServiceOnInterrupt)
    }
    return isFailed ? 1 : 0;
  } catch (error) {
    if (service) console.error(await service.readLogTail());
    throw error;
  } finally {
    await closeBacklogReads();
    await service?.stop();
  }
}

function describeBacklogMethod(isReported: boolean): string {
  const method =
    "; after every load the bench polls the backlog (the service's own query on its database, or GET /v1/admin/stats without one) every 100 ms until no reading is pending: " +
    "*sustained* is the readings stored over the time from the start of the load until then, *drain* the time " +
    "from the end of the load until then, *folding* the readings the aggregator added per rollup row it updated " +
    "(fleet_rollup_readings_total / fleet_rollup_rows_total summed over the tables, from /metrics before and after: " +
    "0.5 is none, every reading its own hourly and daily row); " +
    "during the nominal load the age of the oldest pending reading is sampled every 250 ms";
  return isReported
    ? method
    : `${method}. This service reports no rollup backlog (its requests update the rollups themselves): ` +
        "nothing is taken as pending, and it has no aggregator counters";
}

function sumCpuUsage(parts: (CpuUsage | undefined)[]): CpuUsage | undefined {
  if (parts.length === 0 || parts.some((part) => part === undefined)) return undefined;
  return (parts as CpuUsage[]).reduce((sum, part) => ({
    ours: sum.ours + part.ours,
    others: sum.others + part.others,
    seconds: sum.seconds + part.seconds,
  }));
}

// Ctrl-C must not leave a service and its PostgreSQL running on a temporary directory.
function stopServiceOnInterrupt(service: RunningService | undefined) {
  const stop = async () => {
    log("interrupted: stopping the service");
    await service?.stop();
    process.exit(130);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}

runBench().then(
  (exitCode) => process.exit(exitCode),
  (error) => {
    console.error(`[bench] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

/** The aggregator's settings the service was started with, as the report shows them. */
function describeRollupSettings(): string {
  const set = Object.entries(process.env).filter(([name, value]) => name.startsWith("ROLLUP_") && value);
  return set.length === 0 ? "rollup aggregator defaults" : set.map(([name, value]) => `${name}=${value}`).join(", ");
}
