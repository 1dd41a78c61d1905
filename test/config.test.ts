// Configuration from the environment: defaults, coercion, empty as unset, and errors naming each bad variable.
import { describe, expect, it } from "bun:test";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("configuration", () => {
  it("has working defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, LOG_LEVEL: "info", DATA_DIR: ".data", DATABASE_POOL_SIZE: 10 });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it("reads and coerces values", () => {
    const config = loadConfig({ PORT: "8080", DATABASE_URL: "postgres://u@db:5432/fleet", DATABASE_POOL_SIZE: "32" });
    expect(config).toMatchObject({ PORT: 8080, DATABASE_URL: "postgres://u@db:5432/fleet", DATABASE_POOL_SIZE: 32 });
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", PORT: "" }).PORT).toBe(3000);
  });

  it("stops on a bad value, naming each variable at fault", () => {
    const attempt = () => loadConfig({ PORT: "eighty", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/DATABASE_URL: must be a postgres/);
    expect(attempt).toThrow(/LOG_LEVEL/);
  });

  it("bounds every wait below the server's 30 s idle timeout, and takes a metrics token of 16+ characters", () => {
    expect(loadConfig({})).toMatchObject({
      DATABASE_READ_POOL_SIZE: 5,
      DATABASE_ACQUIRE_TIMEOUT_MS: 5_000,
      ANALYTICS_STATEMENT_TIMEOUT_MS: 15_000,
      ADMIN_STATEMENT_TIMEOUT_MS: 10_000,
      MAX_BATCH_BYTES: 2 * 1024 * 1024,
      MAX_CONCURRENT_LARGE_BATCHES: 4,
      METRICS_CACHE_MS: 5_000,
    });
    expect(() => loadConfig({ DATABASE_ACQUIRE_TIMEOUT_MS: "10000" })).toThrow(/DATABASE_ACQUIRE_TIMEOUT_MS/);
    expect(() => loadConfig({ ANALYTICS_STATEMENT_TIMEOUT_MS: "25000" })).toThrow(/ANALYTICS_STATEMENT_TIMEOUT_MS/);
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN/);
    expect(loadConfig({ METRICS_TOKEN: "a-token-of-24-characters" }).METRICS_TOKEN).toBe("a-token-of-24-characters");
  });
});
