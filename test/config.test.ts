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

  const refusal = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(env)}`);
  };

  it("refuses ports not written in decimal digits, for every port setting", () => {
    for (const setting of ["PORT", "EMBEDDED_PG_PORT"]) {
      for (const value of ["0x10", "1e3", "0b11", "0o17", " 80", "80.0", "-1"]) {
        const lines = refusal({ [setting]: value })
          .split("\n")
          .slice(1);
        expect(lines).toEqual([`  ${setting}: must be a whole number written in decimal digits`]);
      }
      expect(loadConfig({ [setting]: "8080" })[setting as "PORT"]).toBe(8080);
    }
  });

  it("refuses CORS origins a browser's Origin header can never equal, naming each", () => {
    for (const entry of [
      "https://dash.example.com/",
      "https://dash.example.com/app",
      "https://dash.example.com?x=1",
      "https://Dash.example.com",
      "https://dash.example.com:443",
      "dash.example.com",
      "*",
    ]) {
      const message = refusal({ CORS_ORIGINS: `https://ok.example.com, ${entry}` });
      expect(message).toContain(`CORS_ORIGINS.1: ${entry} is not an origin`);
      expect(message.split("\n")).toHaveLength(2);
    }
    const origins = "https://dash.example.com, http://localhost:5173,https://[::1]:8443";
    expect(loadConfig({ CORS_ORIGINS: origins }).CORS_ORIGINS).toEqual([
      "https://dash.example.com",
      "http://localhost:5173",
      "https://[::1]:8443",
    ]);
  });

  it("refuses a master key no client could send: blank, with spaces, or short", () => {
    expect(refusal({ API_MASTER_KEY: " ".repeat(16) })).toContain("API_MASTER_KEY: must not contain spaces");
    expect(refusal({ API_MASTER_KEY: "\t".repeat(20) })).toContain("API_MASTER_KEY: must not contain spaces");
    expect(refusal({ API_MASTER_KEY: "correct horse battery staple" })).toContain("API_MASTER_KEY: must not contain");
    expect(refusal({ API_MASTER_KEY: "0123456789abcde" })).toContain("API_MASTER_KEY: must be at least 16 characters");
    expect(loadConfig({ API_MASTER_KEY: "0123456789abcdef" }).API_MASTER_KEY).toBe("0123456789abcdef");
  });
});
