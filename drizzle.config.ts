import { defineConfig } from "drizzle-kit";

// Only the hot tables live in the schema; the partitioned cold tables are a custom
// migration in drizzle/ (drizzle-kit cannot declare partitioned tables).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://localhost:5432/fleet" },
});
