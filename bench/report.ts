// Turns the measured figures into the Markdown report printed at the end of a bench and
// kept in bench/results/latest.md: one table of medians against the targets, the runs
// behind each median, the write tally and the machine it was all measured on.
import type { AnalyticsCheck } from "./analytics.ts";
import type { CpuUsage } from "./cpu-accounting.ts";
import type { RollupCount } from "./database-probe.ts";
import { describeRows, type FleetStore } from "./fleet-store.ts";
import type { WriteTally } from "./load-result.ts";
import type { Machine } from "./machine.ts";
import { computeMedian } from "./percentiles.ts";
import type { Figures, ScenarioRuns } from "./scenarios.ts";

const RSS_TARGET_MB = 300;

export interface RowCheck {
  rowsStored: number;
  answeredStored: number;
  isMatch: boolean;
  /** Raw rows against the hourly rollups' readings plus the pending ones, at the end. */
  rollups?: RollupCount & { isMatch: boolean };
}

export interface ReportInput {
  date: Date;
  machine?: Machine;
  setup: string;
  scenarios: ScenarioRuns[];
  /** Peak RSS of the service process in bytes; undefined when not measured (--url). */
  peakRssBytes?: number;
  cpu?: CpuUsage;
  tally: WriteTally;
  check?: RowCheck;
  /** The generated store the analytics scenarios ran on (--analytics). */
  store?: FleetStore;
  analyticsCheck?: AnalyticsCheck;
}

const formatInteger = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a");
/** Throughput: whole numbers, but a slow query's fraction of a request a second stays visible. */
const formatRate = (value: number) => (Number.isFinite(value) && value < 10 ? value.toFixed(2) : formatInteger(value));
const formatMs = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "n/a");
const formatYesNo = (isMet: boolean) => (isMet ? "yes" : "**no**");
/** An optional figure: "–" when the scenario does not measure it. */
const formatOptional = (value: number | undefined, format: (value: number) => string, suffix = "") =>
  value === undefined ? "–" : Number.isNaN(value) ? "n/a" : `${format(value)}${suffix}`;
const formatSeconds = (value: number) => value.toFixed(value < 10 ? 2 : 1);

export function formatCheckLine(check: RowCheck): string {
  const rollups = check.rollups
    ? `; hourly rollups' readings + pending == raw rows: ${check.rollups.isMatch ? "yes" : "**no**"} ` +
      `(${formatInteger(check.rollups.rolledUp)} + ${formatInteger(check.rollups.pending)} vs ${formatInteger(check.rollups.rawRows)})`
    : "";
  return `rows stored == 2xx answered: ${check.isMatch ? "yes" : "no"} (${formatInteger(check.rowsStored)} vs ${formatInteger(check.answeredStored)})${rollups}`;
}

export function formatReport(input: ReportInput): string {
  const lines = [
    "# `bun run bench`",
    "",
    `- Date: ${input.date.toISOString().replace(/\.\d+Z$/, "Z")}`,
    ...formatMachine(input.machine, input.cpu),
    `- Setup: ${input.setup}`,
    ...formatStore(input.store),
    "",
    "| Scenario | Connections | Throughput | p50 ms | p99 ms | Sustained, until the backlog is empty | Drain s | Folding | Oldest pending p99 / max s | Target | Met? |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const medians = input.scenarios.map(({ runs }) => summariseRuns(runs));
  const peers = new Map<string, Figures>();
  input.scenarios.forEach(({ scenario }, index) => {
    if (scenario.id) peers.set(scenario.id, medians[index] as Figures);
  });
  input.scenarios.forEach(({ scenario, failures }, index) => {
    const median = medians[index] as Figures;
    // A target is not met by a scenario that lost requests, however fast the rest were.
    const failed = failures > 0 ? ` (${formatInteger(failures)} requests failed)` : "";
    const met = scenario.target
      ? `${formatYesNo(scenario.target.isMet(median, peers) && failures === 0)}${failed}`
      : failed.trim() || "–";
    const oldest =
      median.oldestPendingP99Seconds === undefined
        ? "–"
        : `${formatOptional(median.oldestPendingP99Seconds, formatSeconds)} / ${formatOptional(median.oldestPendingMaxSeconds, formatSeconds)}`;
    lines.push(
      `| ${scenario.name} | ${scenario.connections} | ${formatRate(median.throughput)} ${scenario.unit} | ` +
        `${formatMs(median.p50Ms)} | ${formatMs(median.p99Ms)} | ` +
        `${formatOptional(median.sustainedPerSecond, formatInteger, " readings/s")} | ` +
        `${formatOptional(median.drainSeconds, formatSeconds)} | ${formatOptional(median.folding, (value) => value.toFixed(1))} | ` +
        `${oldest} | ${scenario.target?.text ?? "–"} | ${met} |`,
    );
  });
  lines.push(formatRssRow(input.peakRssBytes), "", "Each figure is the median of the runs:", "");
  for (const { scenario, runs } of input.scenarios) {
    const each = runs.map((run) => {
      const backlog =
        run.sustainedPerSecond === undefined
          ? ""
          : `; sustained ${formatOptional(run.sustainedPerSecond, formatInteger)}, drain ${formatOptional(run.drainSeconds, formatSeconds, " s")} ` +
            `(stats answered within ${formatOptional(run.slowestPollSeconds, formatSeconds, " s")}), ` +
            `folding ${formatOptional(run.folding, (value) => value.toFixed(1))}`;
      const oldest =
        run.oldestPendingP99Seconds === undefined
          ? ""
          : `, oldest pending ${formatOptional(run.oldestPendingP99Seconds, formatSeconds)} / ${formatOptional(run.oldestPendingMaxSeconds, formatSeconds)} s`;
      const pending =
        run.pendingMedian === undefined
          ? ""
          : `, pending readings ${formatInteger(run.pendingMedian)} (median) / ${formatOptional(run.pendingMax, formatInteger)} (max)`;
      return `${formatRate(run.throughput)} (${formatMs(run.p50Ms)} / ${formatMs(run.p99Ms)} ms${backlog}${oldest}${pending})`;
    });
    lines.push(`- ${scenario.name} @ ${scenario.connections}: ${each.join(", ")}`);
  }
  lines.push("", ...formatTally(input.tally, input.check), ...formatAnalyticsCheck(input.analyticsCheck));
  return `${lines.join("\n")}\n`;
}

function formatStore(store: FleetStore | undefined): string[] {
  if (!store) return [];
  const { options } = store;
  const history =
    options.historyVehicles > 0
      ? ` (the first ${formatInteger(Math.min(options.historyVehicles, options.vehicles))} of them from ${store.historyStart.toISOString()}: ${options.historyDays} days)`
      : "";
  return [
    `- Analytics store: ${formatInteger(options.vehicles)} vehicles + ${formatInteger(options.vehicles)} meters (vehicle i linked to meter i), ` +
      `one reading a minute each over [${store.start.toISOString()}, ${store.end.toISOString()})${history}; ` +
      `${describeRows(store)}`,
    `- Generated server-side (insert … select from generate_series, raw rows and their hourly and daily rollups in one statement, ` +
      `two sessions with synchronous_commit off; the service's own commits stay durable) in ${store.totalSeconds.toFixed(0)} s: ` +
      `${store.insertSeconds.toFixed(0)} s inserting (${formatInteger(store.rawRows / store.insertSeconds)} raw rows/s), ` +
      `${store.vacuumSeconds.toFixed(0)} s VACUUM ANALYZE`,
    "- Analytics rows: a closed loop of readers while the nominal ingest (the generated fleet reporting live, timestamped now) " +
      "runs beside it; the ↳ row is that ingest's latency during the reads",
  ];
}

function formatAnalyticsCheck(check: AnalyticsCheck | undefined): string[] {
  if (!check) return [];
  return [
    `- analytics answers == sums over the raw rows: ${check.mismatches.length === 0 ? "yes" : "**no**"} ` +
      `(${formatInteger(check.compared)} answers compared, ${formatInteger(check.mismatches.length)} mismatches)`,
    ...check.mismatches.map((mismatch) => `  - ${mismatch}`),
  ];
}

function summariseRuns(runs: Figures[]): Figures {
  // An optional figure's median: undefined when no run measured it, NaN when every run
  // measured it as n/a (a drain that did not end, a run that folded nothing).
  const medianOf = (pick: (run: Figures) => number | undefined) => {
    const values = runs.map(pick).filter((value): value is number => value !== undefined);
    return values.length === 0 ? undefined : computeMedian(values);
  };
  return {
    throughput: computeMedian(runs.map((run) => run.throughput)),
    p50Ms: computeMedian(runs.map((run) => run.p50Ms)),
    p99Ms: computeMedian(runs.map((run) => run.p99Ms)),
    sustainedPerSecond: medianOf((run) => run.sustainedPerSecond),
    drainSeconds: medianOf((run) => run.drainSeconds),
    folding: medianOf((run) => run.folding),
    oldestPendingP99Seconds: medianOf((run) => run.oldestPendingP99Seconds),
    oldestPendingMaxSeconds: medianOf((run) => run.oldestPendingMaxSeconds),
  };
}

function formatMachine(machine: Machine | undefined, cpu: CpuUsage | undefined): string[] {
  if (!machine) return [];
  const share = (coreSeconds: number) =>
    `${((100 * coreSeconds) / (cpu ? cpu.seconds * machine.cores : 1)).toFixed(0)}%`;
  const cpuLine = cpu
    ? [
        `- CPU during the scenarios (${cpu.seconds.toFixed(0)} s): the bench's processes (service, PostgreSQL, load generators) ` +
          `${cpu.ours.toFixed(0)} core-seconds (${share(cpu.ours)} of the machine), other processes ${cpu.others.toFixed(0)} (${share(cpu.others)})`,
      ]
    : [];
  return [
    `- Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB.toFixed(1)} GiB memory, Linux ${machine.kernel}; ` +
      `1-min load average before the bench: ${machine.loadAverage.toFixed(2)}`,
    `- Bun ${machine.bunVersion}; ${machine.postgresVersion}`,
    ...cpuLine,
  ];
}

function formatRssRow(peakRssBytes: number | undefined): string {
  if (peakRssBytes === undefined)
    return `| Service RSS, peak | – | not measured (--url) | – | – | – | – | – | – | ≤ ${RSS_TARGET_MB} MB | – |`;
  const mb = peakRssBytes / 1e6;
  const met = Number.isFinite(mb) ? formatYesNo(mb <= RSS_TARGET_MB) : "–";
  return `| Service RSS, peak (bun process, sampled every 500 ms) | – | ${Number.isFinite(mb) ? mb.toFixed(0) : "n/a"} MB | – | – | – | – | – | – | ≤ ${RSS_TARGET_MB} MB | ${met} |`;
}

function formatTally(tally: WriteTally, check: RowCheck | undefined): string[] {
  const non2xx = Object.entries(tally.non2xx).map(([status, count]) => `${status}: ${formatInteger(count)}`);
  return [
    "Writes, warm-ups included:",
    "",
    `- requests: ${formatInteger(tally.requests)}; answered 2xx: ${formatInteger(tally.requests2xx)}; ` +
      `non-2xx: ${non2xx.length ? non2xx.join(", ") : "none"}; unanswered: ${formatInteger(tally.unanswered)}`,
    `- readings answered stored (201, or a batch's \`stored\`): ${formatInteger(tally.readingsStored)}; ` +
      `answered duplicate: ${formatInteger(tally.readingsDuplicate)} (every reading sent is new, so 0 expected; ` +
      "the shared-meter batches take their minutes from one counter)",
    `- ${check ? formatCheckLine(check) : "rows stored == 2xx answered: not checked (--url without --database-url)"}`,
  ];
}
