// Which SQL form writes a batch of telemetry rows cheapest, on Postgres?
// Compares, on the same rows and the same table (as pulse_app, under
// row-level security, like the ingest writer; the raw COPY as the owner):
//   copy-raw       COPY telemetry FROM STDIN (owner; the bench's baseline; RLS forbids it for pulse_app)
//   copy-temp      COPY into a temp table, then INSERT … SELECT from DELETE … RETURNING
//   copy-temp-ins  COPY into a temp table, then a plain INSERT … SELECT
//   copy-owner     COPY telemetry FROM STDIN after SET ROLE to the owner (only for a superuser connection; for comparison)
//   unnest         INSERT … SELECT FROM unnest($1::timestamptz[], …, $4::jsonb[]) (array literals)
//   split          INSERT … SELECT FROM unnest(string_to_array($1, ','), …, string_to_array($4, E'\\n')) (no escaping)
//   json           INSERT … SELECT FROM json_to_recordset($1::text::json)
// Prints per form: rows/s (wall), JS ms and Postgres-backend CPU ms per batch.
//   bun tests/bench/write-forms.ts [--batches N] [--rows R]

import postgres from "postgres";
import { cpuSeconds, createBenchDb, fmt, num, sampleMetrics, seedDevices, TENANT } from "./lib.ts";

const args = process.argv.slice(2);
const batches = num(args, "batches", 20);
const rowsPer = num(args, "rows", 5000);

const bdb = await createBenchDb("postgres");
await seedDevices(bdb, 200);
const owner = postgres(bdb.url!, { max: 1, onnotice: () => {} });
const app = postgres(bdb.url!, { max: 1, onnotice: () => {}, connection: { role: "pulse_app" } });
const ownerPid = ((await owner`select pg_backend_pid() as pid`) as unknown as [{ pid: number }])[0].pid;
const appPid = ((await app`select pg_backend_pid() as pid`) as unknown as [{ pid: number }])[0].pid;

type Row = [string, string, string, string];
let seq = 0;
function makeRows(): Row[] {
  const now = new Date().toISOString();
  const rows: Row[] = [];
  for (let i = 0; i < rowsPer; i++, seq++) rows.push([now, TENANT, `dev-${String(seq % 200).padStart(5, "0")}`, sampleMetrics(seq % 200, seq)]);
  return rows;
}
const copyText = (rows: Row[]) => rows.map((r) => r.join("\t")).join("\n") + "\n";
async function copyIn(sql: postgres.Sql | postgres.TransactionSql, stmt: string, text: string) {
  const stream = await sql.unsafe(stmt).writable();
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    stream.end(text);
  });
}
const arr = (xs: string[]) => "{" + xs.map((s) => '"' + s.replace(/[\\"]/g, "\\$&") + '"').join(",") + "}";

const forms: Record<string, { owner?: boolean; run: (rows: Row[]) => Promise<void> }> = {
  "copy-raw": { owner: true, run: (rows) => copyIn(owner, "copy telemetry (time, tenant_id, device_id, metrics) from stdin", copyText(rows)) },
  "copy-temp": {
    run: (rows) =>
      app.begin(async (tx) => {
        await tx`select set_config('pulse.cross_tenant', 'all', true)`;
        await tx.unsafe("create temp table if not exists st on commit drop as select time, tenant_id, device_id, metrics from telemetry with no data");
        await copyIn(tx, "copy pg_temp.st (time, tenant_id, device_id, metrics) from stdin", copyText(rows));
        await tx.unsafe("with moved as (delete from pg_temp.st returning time, tenant_id, device_id, metrics) insert into telemetry (time, tenant_id, device_id, metrics) select * from moved");
      }) as Promise<unknown> as Promise<void>,
  },
  "copy-temp-ins": {
    run: (rows) =>
      app.begin(async (tx) => {
        await tx`select set_config('pulse.cross_tenant', 'all', true)`;
        await tx.unsafe("create temp table if not exists st on commit drop as select time, tenant_id, device_id, metrics from telemetry with no data");
        await copyIn(tx, "copy pg_temp.st (time, tenant_id, device_id, metrics) from stdin", copyText(rows));
        await tx.unsafe("insert into telemetry (time, tenant_id, device_id, metrics) select * from pg_temp.st");
      }) as Promise<unknown> as Promise<void>,
  },
  "copy-owner": {
    // COPY as the connecting role: works here because the bench connects as a superuser, whom row-level security does not hold (Pulse itself never does this).
    run: (rows) =>
      app.begin(async (tx) => {
        await tx`select set_config('role', session_user, true), set_config('pulse.cross_tenant', 'all', true)`;
        await copyIn(tx, "copy telemetry (time, tenant_id, device_id, metrics) from stdin", copyText(rows));
      }) as Promise<unknown> as Promise<void>,
  },
  unnest: {
    run: (rows) =>
      app.begin((tx) => [
        tx`select set_config('pulse.cross_tenant', 'all', true)`,
        tx.unsafe("insert into telemetry (time, tenant_id, device_id, metrics) select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::jsonb[])", [arr(rows.map((r) => r[0])), arr(rows.map((r) => r[1])), arr(rows.map((r) => r[2])), arr(rows.map((r) => r[3]))], { prepare: true }),
      ]) as Promise<unknown> as Promise<void>,
  },
  split: {
    run: (rows) =>
      app.begin((tx) => [
        tx`select set_config('pulse.cross_tenant', 'all', true)`,
        tx.unsafe(
          "insert into telemetry (time, tenant_id, device_id, metrics) select t::timestamptz, te, d, m::jsonb from unnest(string_to_array($1, ','), string_to_array($2, ','), string_to_array($3, ','), string_to_array($4, E'\\n')) as u(t, te, d, m)",
          [rows.map((r) => r[0]).join(","), rows.map((r) => r[1]).join(","), rows.map((r) => r[2]).join(","), rows.map((r) => r[3]).join("\n")],
          { prepare: true },
        ),
      ]) as Promise<unknown> as Promise<void>,
  },
  json: {
    run: (rows) =>
      app.begin((tx) => [
        tx`select set_config('pulse.cross_tenant', 'all', true)`,
        tx.unsafe(
          "insert into telemetry (time, tenant_id, device_id, metrics) select r.time, r.tenant_id, r.device_id, r.metrics from json_to_recordset($1::text::json) as r(time timestamptz, tenant_id text, device_id text, metrics jsonb)",
          ["[" + rows.map((r) => `{"time":"${r[0]}","tenant_id":"${r[1]}","device_id":"${r[2]}","metrics":${r[3]}}`).join(",") + "]"],
          { prepare: true },
        ),
      ]) as Promise<unknown> as Promise<void>,
  },
};

console.log(`${batches} batches of ${rowsPer} rows each, per form (rounds interleaved to even out the machine's noise)`);
const totals = Object.fromEntries(Object.keys(forms).map((k) => [k, { wall: 0, js: 0, pg: 0, n: 0 }]));
for (let b = 0; b < batches; b++) {
  for (const [name, f] of Object.entries(forms)) {
    const rows = makeRows();
    const pid = f.owner ? ownerPid : appPid;
    const pg0 = cpuSeconds(pid);
    const js0 = process.cpuUsage();
    const t0 = performance.now();
    await f.run(rows);
    const t = totals[name]!;
    t.wall += performance.now() - t0;
    const js = process.cpuUsage(js0);
    t.js += (js.user + js.system) / 1000;
    t.pg += (cpuSeconds(pid) - pg0) * 1000;
    t.n++;
  }
}
for (const [name, t] of Object.entries(totals)) {
  console.log(`${name.padEnd(14)} ${fmt((t.n * rowsPer) / (t.wall / 1000)).padStart(9)} rows/s wall   JS ${fmt(t.js / t.n, 1).padStart(6)} ms/batch   postgres ${fmt(t.pg / t.n, 1).padStart(6)} ms/batch`);
}
await owner.end();
await app.end();
await bdb.dispose();
