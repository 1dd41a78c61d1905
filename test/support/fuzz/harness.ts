// Sending one fuzz probe to the in-process app and checking everything the contract promises about its
// answer: below 500, JSON, the one error shape for every non-2xx, nothing written when it refuses, no
// 2xx for an upload that broke off, no hang. Each property keeps its own Prober, so what one property
// sent and saw is never mixed with another's.
import { expect } from "bun:test";
import type { Sql } from "../../../src/db/client.ts";
import type { TestApp } from "../database.ts";
import { meterReading, postJson } from "../http.ts";

/** Runs of a property unless it says otherwise. */
const RUNS = 200;

/** A body sent as a stream (no Content-Length), in these chunks; optionally breaking off. */
export interface StreamedBody {
  chunks: Uint8Array[];
  /** The stream errors (the client went away) after this many chunks, before the last one. */
  breakAfter?: number;
}

export interface Probe {
  method: string;
  path: string;
  contentType?: string;
  body?: string | Uint8Array | StreamedBody;
}

function streamOf({ chunks, breakAfter }: StreamedBody): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (breakAfter !== undefined && sent >= breakAfter) return controller.error(new Error("the client went away"));
      const chunk = chunks[sent++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

const HANG_MS = 10_000;

/** Row counts of the cold tables and a fingerprint of every hot row and mapping. */
async function rowCounts(sql: Sql): Promise<string> {
  const [row] = await sql<{ counts: string }[]>`
    select concat_ws(',',
      (select count(*) from meter_telemetry), (select count(*) from vehicle_telemetry),
      (select count(*) || ':' || md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from meter_state r),
      (select count(*) || ':' || md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from vehicle_state r),
      (select count(*) || ':' || md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from vehicle_meter_mapping r)
    ) as counts
  `;
  return row?.counts ?? "?";
}

const preview = (value: unknown, max = 300) => {
  const streamed = value as StreamedBody;
  const text =
    typeof value === "string"
      ? value
      : value instanceof Uint8Array
        ? `<${value.byteLength} bytes>`
        : Array.isArray(streamed?.chunks)
          ? `<stream of ${streamed.chunks.length} chunks${streamed.breakAfter === undefined ? "" : `, breaking off after ${streamed.breakAfter}`}: ${new TextDecoder().decode(Buffer.concat(streamed.chunks))}>`
          : String(value);
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
};

function describeProbe(probe: Probe) {
  return `${probe.method} ${preview(probe.path, 200)} [content-type: ${probe.contentType ?? "(none)"}] body: ${preview(probe.body)}`;
}

/** Builds the Request, or answers undefined when the probe is not a request a client could send. */
function buildRequest(probe: Probe): Request | undefined {
  const headers = new Headers();
  try {
    if (probe.contentType !== undefined) headers.set("content-type", probe.contentType);
    const hasBody = probe.body !== undefined && !["GET", "HEAD"].includes(probe.method.toUpperCase());
    const body = probe.body;
    const isStreamed = typeof body === "object" && !(body instanceof Uint8Array);
    return new Request(`http://localhost${probe.path}`, {
      method: probe.method,
      headers,
      body: hasBody ? (isStreamed ? streamOf(body) : body) : undefined,
      ...(hasBody && isStreamed ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch {
    return undefined; // the fetch API itself refuses it (forbidden method, bad header): not our input
  }
}

const isWrite = (probe: Probe) => !["GET", "HEAD", "OPTIONS"].includes(probe.method.toUpperCase());

/**
 * One property's probes: sends them, checks each answer, and counts what was sent and which answers
 * ("<status> <error code>", e.g. "400 validation_failed", or "201 " for a success) came back.
 */
export class Prober {
  /** Probes that reached the app. */
  sent = 0;
  /** Answers by "<status> <code>"; "unsendable" counts probes the fetch API itself refused to build. */
  readonly answers = new Map<string, number>();

  constructor(
    private readonly t: TestApp,
    /** The property's number of runs: one probe each. */
    readonly runs = RUNS,
  ) {}

  private count(kind: string) {
    this.answers.set(kind, (this.answers.get(kind) ?? 0) + 1);
  }

  /** Sends the probe and checks the answer; throws (with the probe) on any breach. */
  async send(probe: Probe): Promise<{ status: number; body: unknown }> {
    const { t } = this;
    const request = buildRequest(probe);
    if (!request) {
      this.count("unsendable");
      return { status: 0, body: undefined };
    }
    this.sent++;
    const write = isWrite(probe);
    const before = write ? await rowCounts(t.database.sql) : "";
    const unexpectedBefore = t.unexpected.length;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms`)), HANG_MS);
    });
    const fail = (why: string, extra = ""): never => {
      throw new Error(`${why}\n  request: ${describeProbe(probe)}${extra ? `\n  ${extra}` : ""}`);
    };
    let response: Response;
    let text: string;
    try {
      response = await Promise.race([t.app.request(request), hung]);
      text = await Promise.race([response.text(), hung]);
    } catch (error) {
      return fail(`the request threw or hung: ${(error as Error)?.stack ?? error}`);
    } finally {
      clearTimeout(timer);
    }
    const answer = `answer: ${response.status} ${preview(text)}`;
    const code = /"code":"([a-z_]+)"/.exec(text)?.[1] ?? "";
    this.count(`${response.status} ${code}`);
    if (response.status >= 500) fail(`a ${response.status} answer`, answer);
    if (t.unexpected.length > unexpectedBefore)
      fail(
        `the app reported an unexpected error: ${(t.unexpected.at(-1) as Error)?.stack ?? t.unexpected.at(-1)}`,
        answer,
      );
    if (request.method === "HEAD") return { status: response.status, body: undefined };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      fail("the body is not JSON", answer);
    }
    if (!(response.headers.get("content-type") ?? "").startsWith("application/json"))
      fail(`content-type is ${response.headers.get("content-type")}, not JSON`, answer);
    if (response.status < 200 || response.status >= 300) {
      const shape = body as { error?: Record<string, unknown> } | null;
      const isShaped =
        typeof shape === "object" &&
        shape !== null &&
        !Array.isArray(shape) &&
        Object.keys(shape).join() === "error" &&
        typeof shape.error === "object" &&
        shape.error !== null &&
        typeof shape.error.code === "string" &&
        typeof shape.error.message === "string" &&
        Object.keys(shape.error).every((key) => ["code", "message", "details"].includes(key));
      if (!isShaped) fail("a non-2xx answer not in the error shape", answer);
      if (write) {
        const after = await rowCounts(t.database.sql);
        if (after !== before) fail(`a ${response.status} answer wrote rows: ${before} -> ${after}`, answer);
      }
    }
    const streamed = probe.body as StreamedBody | undefined;
    if (streamed?.breakAfter !== undefined && response.status < 300)
      fail("an upload that broke off was answered 2xx", answer);
    return { status: response.status, body };
  }

  /**
   * After the property: the service still takes a valid reading, most of the runs (more than 5/8)
   * reached the app rather than being probes the fetch API refused to build, and each of these kinds
   * of answer came back at least once (the generators reach them, not just one refusal over and over).
   */
  async expectDone(answered: string[] = []) {
    const response = await postJson(this.t.app, "/v1/telemetry/meter", meterReading());
    expect(response.status).toBe(201);
    expect(this.sent).toBeGreaterThan((this.runs * 5) / 8);
    expect(answered.filter((kind) => !this.answers.has(kind))).toEqual([]);
  }
}

/** Each device's hot state is its newest history row, and every device with history has one. */
export async function expectHotStateIsNewestHistory(sql: Sql) {
  const meterMismatches = await sql`
    select s.meter_id from meter_state s
    left join lateral (
      select * from meter_telemetry c where c.meter_id = s.meter_id order by recorded_at desc limit 1
    ) c on true
    where c.meter_id is null or (s.kwh_consumed_ac, s.voltage, s.last_updated)
      is distinct from (c.kwh_consumed_ac, c.voltage, c.recorded_at)
  `;
  const vehicleMismatches = await sql`
    select s.vehicle_id from vehicle_state s
    left join lateral (
      select * from vehicle_telemetry c where c.vehicle_id = s.vehicle_id order by recorded_at desc limit 1
    ) c on true
    where c.vehicle_id is null or (s.soc, s.kwh_delivered_dc, s.battery_temp, s.last_updated)
      is distinct from (c.soc, c.kwh_delivered_dc, c.battery_temp, c.recorded_at)
  `;
  expect([...meterMismatches]).toEqual([]);
  expect([...vehicleMismatches]).toEqual([]);
  const [states] = await sql<{ meters: number; vehicles: number }[]>`
    select (select count(*) from meter_state)::int as meters, (select count(*) from vehicle_state)::int as vehicles
  `;
  const [devices] = await sql<{ meters: number; vehicles: number }[]>`
    select (select count(distinct meter_id) from meter_telemetry)::int as meters,
           (select count(distinct vehicle_id) from vehicle_telemetry)::int as vehicles
  `;
  expect(states).toEqual(devices as { meters: number; vehicles: number });
}
