// The end-of-run check: for every vehicle, the server's analytics over a window holding
// exactly what was sent must equal what the ledger saw acknowledged: AC (its linked
// meter's), DC and the number of vehicle readings. Compared as exact decimals (integers
// of thousandths parsed from the digits), so a total that is off by 0.001 kWh is caught.
import { formatThousandths, parseThousandths } from "./decimal.ts";
import { describeDevices } from "./fleet.ts";
import { describeFailure, type HttpClient, isAcknowledged } from "./http-client.ts";
import type { Expected, Ledger } from "./ledger.ts";
import { type Limiter, launchLimited } from "./limiter.ts";

export interface Mismatch {
  vehicleId: string;
  field: "totalAcConsumption" | "totalDcDelivery" | "dataPoints" | "response";
  expected: string;
  actual: string;
}

export interface Verification {
  vehicles: number;
  mismatches: Mismatch[];
}

/** The fields of one analytics answer that differ from what was acknowledged. */
export function compareTotals(vehicleId: string, expected: Expected, actual: unknown): Mismatch[] {
  const body = (typeof actual === "object" && actual !== null ? actual : {}) as Record<string, unknown>;
  const mismatches: Mismatch[] = [];
  const compareDecimal = (field: "totalAcConsumption" | "totalDcDelivery", thousandths: number) => {
    if (parseThousandths(body[field]) === thousandths) return;
    mismatches.push({ vehicleId, field, expected: formatThousandths(thousandths), actual: String(body[field]) });
  };
  compareDecimal("totalAcConsumption", expected.acThousandths);
  compareDecimal("totalDcDelivery", expected.dcThousandths);
  if (body.dataPoints !== expected.dataPoints) {
    mismatches.push({
      vehicleId,
      field: "dataPoints",
      expected: String(expected.dataPoints),
      actual: String(body.dataPoints),
    });
  }
  return mismatches;
}

/** Nothing stored and no link: the server has never seen the vehicle, and says 404. */
const isUnseen = (expected: Expected, isLinked: boolean) => !isLinked && expected.dataPoints === 0;

export async function verifyFleet(options: {
  client: HttpClient;
  limiter: Limiter;
  ledger: Ledger;
  seed: string;
}): Promise<Verification> {
  const { client, limiter, ledger } = options;
  const window = ledger.window();
  const mismatches: Mismatch[] = [];
  if (!window) return { vehicles: 0, mismatches };
  const query = `from=${window.from.toISOString()}&to=${window.to.toISOString()}`;
  for (let index = 0; index < ledger.size; index++) {
    const { vehicleId } = describeDevices(options.seed, index);
    const expected = ledger.expectedFor(index);
    await launchLimited(
      limiter,
      async () => {
        const result = await client.request("GET", `/v1/analytics/performance/${vehicleId}?${query}`);
        // 404 is the right answer for a vehicle the server was never told about.
        if (result.kind === "response" && result.status === 404 && isUnseen(expected, ledger.isLinked(index))) return;
        if (isAcknowledged(result)) mismatches.push(...compareTotals(vehicleId, expected, result.body));
        else mismatches.push({ vehicleId, field: "response", expected: "200", actual: describeFailure(result) });
      },
      (error) => mismatches.push({ vehicleId, field: "response", expected: "200", actual: String(error) }),
    );
  }
  await limiter.whenIdle();
  // Answers arrive in any order; the report should not.
  mismatches.sort((a, b) => a.vehicleId.localeCompare(b.vehicleId) || a.field.localeCompare(b.field));
  return { vehicles: ledger.size, mismatches };
}
