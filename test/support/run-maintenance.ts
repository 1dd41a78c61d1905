// Runs one round of partition maintenance against a database, as a separate process would:
//   bun test/support/run-maintenance.ts <database url> <now ISO> <retention months>
import { createSql } from "../../src/db/client.ts";
import { maintainPartitions } from "../../src/partitions/maintenance.ts";
import { Partitions } from "../../src/partitions/partitions.ts";

const [url, now, retention] = process.argv.slice(2) as [string, string, string];
const sql = createSql({ url, poolSize: 2, connectTimeoutSeconds: 10 });
const result = await maintainPartitions({
  sql,
  partitions: new Partitions(sql),
  now: () => new Date(now),
  monthsAhead: 2,
  retentionMonths: Number(retention),
});
console.log(JSON.stringify(result));
await sql.end();
