// Links vehicle i to meter i (POST /v1/mappings), so the analytics count the meter's AC
// toward the vehicle. The ledger learns which links the server acknowledged: a vehicle
// whose link failed is expected to show no AC at all.
import { listDevices } from "./fleet.ts";
import { describeFailure, type HttpClient, isAcknowledged } from "./http-client.ts";
import type { Ledger } from "./ledger.ts";
import { type Limiter, launchLimited } from "./limiter.ts";

export async function linkDevices(options: {
  client: HttpClient;
  limiter: Limiter;
  ledger: Ledger;
  seed: string;
  onFailure: (what: string) => void;
}): Promise<void> {
  const { client, limiter, ledger } = options;
  const reportBug = (error: unknown) => options.onFailure(`load tool defect: ${String(error)}`);
  for (const [index, pair] of listDevices(options.seed, ledger.size).entries()) {
    await launchLimited(
      limiter,
      async () => {
        // 201 (new link) and 200 (already active, e.g. a replayed run) both mean linked.
        const result = await client.request("POST", "/v1/mappings", pair);
        if (isAcknowledged(result)) ledger.recordLink(index);
        else options.onFailure(`POST /v1/mappings ${pair.vehicleId}: ${describeFailure(result)}`);
      },
      reportBug,
    );
  }
  await limiter.whenIdle();
}
