// Runs once before any test file: one PostgreSQL server and one migrated template database
// for the whole run, torn down when the run ends.
import { afterAll } from "bun:test";
import { SERVER_URL_VARIABLE, startTestServer, TEMPLATE_VARIABLE } from "./server.ts";

const server = await startTestServer();
process.env[SERVER_URL_VARIABLE] = server.url;
process.env[TEMPLATE_VARIABLE] = server.template;

afterAll(async () => {
  await server.stop();
});
