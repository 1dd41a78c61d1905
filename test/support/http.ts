// Small helpers for driving the app in-process with app.request().
import { randomUUID } from "node:crypto";

// Bodies are whatever the server sent; assertions inspect them field by field.
// biome-ignore lint/suspicious/noExplicitAny: a response body has no static type
export type JsonBody = any;

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: JsonBody;
  /** What was asked, so expectDocumented (openapi.ts) can find the route's documentation. */
  request: { method: string; path: string };
}

type Fetcher = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

export async function postJson(app: Fetcher, path: string, body: unknown): Promise<JsonResponse> {
  return sendJson(app, "POST", path, body);
}

export async function putJson(app: Fetcher, path: string, body: unknown): Promise<JsonResponse> {
  return sendJson(app, "PUT", path, body);
}

async function sendJson(app: Fetcher, method: string, path: string, body: unknown): Promise<JsonResponse> {
  const response = await app.request(path, {
    method,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: await response.json(),
    request: { method, path },
  };
}

export async function getJson(app: Fetcher, path: string): Promise<JsonResponse> {
  const response = await app.request(path);
  return {
    status: response.status,
    headers: response.headers,
    body: await response.json(),
    request: { method: "GET", path },
  };
}

export const newId = () => randomUUID();

export function meterReading(overrides: Record<string, unknown> = {}) {
  return { meterId: newId(), kwhConsumedAc: 1.5, voltage: 230, timestamp: "2026-03-15T11:00:00Z", ...overrides };
}

export function vehicleReading(overrides: Record<string, unknown> = {}) {
  return {
    vehicleId: newId(),
    soc: 50,
    kwhDeliveredDc: 1.3,
    batteryTemp: 25,
    timestamp: "2026-03-15T11:00:00Z",
    ...overrides,
  };
}
