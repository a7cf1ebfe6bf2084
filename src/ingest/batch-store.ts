// The SQL of one ingest batch, inside the writer's transaction: the
// telemetry rows (one INSERT of text-array columns), each device's latest
// state (one upsert), first sightings of metric names, and token use.

import type { Sql } from "../db/db.ts";
import type { MetricValue } from "./parse.ts";
import type { Accepted } from "./writer.ts";

/** Metric names and tokens already recorded are touched again at most this often. */
const TOUCH_EVERY_MS = 60_000;

interface DeviceUpdate {
  tenantId: string;
  deviceId: string;
  // Times as epoch milliseconds (comparing Dates costs a conversion each time); 0 for none.
  lastSeen: number;
  lastTelemetry: number;
  lastHeartbeat: number;
  metrics: Record<string, MetricValue>;
  metricsTime: number;
  firstSeq: number | null;
  lastSeq: number | null;
  gaps: number;
  count: number;
  lat: number | null;
  lng: number | null;
  /** The token of its latest message here: a token is looked up once per device, not per message. */
  token: string | undefined;
}

const isoOrEmpty = (ms: number) => (ms ? new Date(ms).toISOString() : "");

/** One batch, inside one transaction. */
export async function writeBatch(tx: Sql, batch: readonly Accepted[], seenMetrics: Map<string, number>, touchedTokens: Map<string, number>): Promise<void> {
  // Telemetry columns as text, for TELEMETRY_INSERT.
  const times: string[] = [];
  const tenants: string[] = [];
  const deviceIds: string[] = [];
  const metricsJson: string[] = [];
  // tenant → device: nested rather than one map on a joined key, which cost
  // a new string to hash for every message (as did per-message metric-name
  // and token lookups; those are made once per device and tenant below).
  const devicesOf = new Map<string, Map<string, DeviceUpdate>>();
  const tokens = new Set<string>();
  const nowMs = Date.now();

  for (const { env, receivedAt, tokenId } of batch) {
    let hasMetrics = false;
    for (const _ in env.metrics) {
      hasMetrics = true;
      break;
    }
    const time = env.time.getTime();
    if (hasMetrics) {
      times.push(env.time.toISOString());
      tenants.push(env.tenantId);
      deviceIds.push(env.deviceId);
      metricsJson.push(JSON.stringify(env.metrics));
    }
    let devices = devicesOf.get(env.tenantId);
    if (!devices) devicesOf.set(env.tenantId, (devices = new Map()));
    let d = devices.get(env.deviceId);
    if (!d) {
      d = { tenantId: env.tenantId, deviceId: env.deviceId, lastSeen: 0, lastTelemetry: 0, lastHeartbeat: 0, metrics: {}, metricsTime: 0, firstSeq: null, lastSeq: null, gaps: 0, count: 0, lat: null, lng: null, token: undefined };
      devices.set(env.deviceId, d);
    }
    d.count++;
    const received = receivedAt.getTime();
    if (received > d.lastSeen) d.lastSeen = received;
    if (env.msgType === "telemetry") {
      if (time > d.lastTelemetry) d.lastTelemetry = time;
    } else if (time > d.lastHeartbeat) d.lastHeartbeat = time;
    // Latest value of each metric by the device's own time, so a late message does not overwrite a newer one.
    if (hasMetrics && time >= d.metricsTime) {
      // A plain loop: Object.assign took several times as long here.
      const into = d.metrics;
      for (const name in env.metrics) into[name] = env.metrics[name]!;
      d.metricsTime = time;
    } else if (hasMetrics) d.metrics = { ...env.metrics, ...d.metrics };
    if (env.seq !== undefined) {
      if (d.lastSeq !== null && env.seq > d.lastSeq + 1) d.gaps += env.seq - d.lastSeq - 1;
      if (d.firstSeq === null) d.firstSeq = env.seq;
      if (d.lastSeq === null || env.seq > d.lastSeq) d.lastSeq = env.seq;
    }
    if (env.lat !== undefined) d.lat = env.lat;
    if (env.lng !== undefined) d.lng = env.lng;
    if (tokenId && tokenId !== d.token) {
      d.token = tokenId;
      if (!(nowMs - (touchedTokens.get(tokenId) ?? 0) < TOUCH_EVERY_MS)) tokens.add(tokenId);
    }
  }

  // Metric names: every name a device sent is in its merged metrics; each
  // (tenant, name) is looked up once.
  const newMetrics = new Map<string, [string, string, string]>();
  const ds: DeviceUpdate[] = [];
  for (const [tenantId, devices] of devicesOf) {
    const kinds = new Map<string, string>();
    for (const d of devices.values()) {
      ds.push(d);
      for (const name in d.metrics) kinds.set(name, typeof d.metrics[name]);
    }
    for (const [name, kind] of kinds) {
      const mk = `${tenantId}\u0000${name}`;
      const seen = seenMetrics.get(mk);
      if (seen === undefined || nowMs - seen > TOUCH_EVERY_MS) newMetrics.set(mk, [tenantId, name, kind]);
    }
  }

  // Every statement is sent at once (pipelined); the first error fails the batch.
  // The planner guesses one row for the batch joined to its devices (the
  // unnest's columns have no statistics) and then matches the locked state
  // rows by a nested loop: every device against every other, 240 devices
  // took 25 ms instead of 1. Hash joins for this transaction only.
  const statements: Promise<unknown>[] = [tx.query(NO_NESTED_LOOPS)];
  if (times.length) statements.push(tx.query(TELEMETRY_INSERT, [times.join(","), tenants.join(","), deviceIds.join(","), metricsJson.join("\n")]));

  // Devices deleted since their message was accepted are skipped, not an error that blocks the batch.
  // What depends on a device's stored row (the merged last_metrics, the seq gap
  // since the stored last_seq) is worked out against that row, locked first
  // (`cur`, found by its key). Looking the batch's values up in `b` from the ON
  // CONFLICT clause instead scanned the whole batch once per device: quadratic,
  // 5,000 devices in a batch took seconds.
  statements.push(tx.query(
    `with b as (
       select te as tenant_id, d as device_id, ls::timestamptz as last_seen, nullif(lt, '')::timestamptz as last_tel,
              nullif(lh, '')::timestamptz as last_hb, m::jsonb as metrics, nullif(fs, '')::bigint as first_seq,
              nullif(lq, '')::bigint as last_seq, g::bigint as gaps, n::bigint as n, nullif(la, '')::float8 as lat,
              nullif(lo, '')::float8 as lng, nullif(mt, '')::timestamptz as metrics_time
         from unnest(string_to_array($1, ','), string_to_array($2, ','), string_to_array($3, ','), string_to_array($4, ','),
                     string_to_array($5, ','), string_to_array($6, E'\n'), string_to_array($7, ','), string_to_array($8, ','),
                     string_to_array($9, ','), string_to_array($10, ','), string_to_array($11, ','), string_to_array($12, ','),
                     string_to_array($13, ',')) as u(te, d, ls, lt, lh, m, fs, lq, g, n, la, lo, mt)
     ), cur as (
       select s.tenant_id, s.device_id, s.last_seq, s.last_telemetry_at, s.last_metrics
         from device_state s join b on s.tenant_id = b.tenant_id and s.device_id = b.device_id
          for update of s
     )
     insert into device_state as s (tenant_id, device_id, last_seen_at, last_telemetry_at, last_heartbeat_at, last_metrics, last_seq, seq_gaps, messages, lat, lng)
     select b.tenant_id, b.device_id, b.last_seen, b.last_tel, b.last_hb,
            -- Metrics measured before the stored ones (a late message) only fill in names not known yet.
            case when cur.device_id is null then b.metrics
                 when cur.last_telemetry_at is null or b.metrics_time >= cur.last_telemetry_at then cur.last_metrics || b.metrics
                 else b.metrics || cur.last_metrics end,
            b.last_seq, b.gaps + greatest(0, coalesce(b.first_seq - cur.last_seq - 1, 0)), b.n, b.lat, b.lng
       from b join devices d on d.tenant_id = b.tenant_id and d.id = b.device_id
       left join cur on cur.tenant_id = b.tenant_id and cur.device_id = b.device_id
     on conflict (tenant_id, device_id) do update set
       last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at),
       last_telemetry_at = greatest(s.last_telemetry_at, excluded.last_telemetry_at),
       last_heartbeat_at = greatest(s.last_heartbeat_at, excluded.last_heartbeat_at),
       last_metrics = excluded.last_metrics,
       seq_gaps = s.seq_gaps + excluded.seq_gaps,
       last_seq = coalesce(excluded.last_seq, s.last_seq),
       messages = s.messages + excluded.messages,
       lat = coalesce(excluded.lat, s.lat),
       lng = coalesce(excluded.lng, s.lng)`,
    // Columns as text, as for the telemetry rows (see TELEMETRY_INSERT): an
    // empty field is null. (One empty field alone is an empty array, which
    // unnest pads with null: the same.)
    [
      ds.map((d) => d.tenantId).join(","),
      ds.map((d) => d.deviceId).join(","),
      ds.map((d) => isoOrEmpty(d.lastSeen)).join(","),
      ds.map((d) => isoOrEmpty(d.lastTelemetry)).join(","),
      ds.map((d) => isoOrEmpty(d.lastHeartbeat)).join(","),
      ds.map((d) => JSON.stringify(d.metrics)).join("\n"),
      ds.map((d) => d.firstSeq ?? "").join(","),
      ds.map((d) => d.lastSeq ?? "").join(","),
      ds.map((d) => d.gaps).join(","),
      ds.map((d) => d.count).join(","),
      ds.map((d) => d.lat ?? "").join(","),
      ds.map((d) => d.lng ?? "").join(","),
      ds.map((d) => isoOrEmpty(d.metricsTime)).join(","),
    ],
  ));

  if (newMetrics.size) {
    const ms = [...newMetrics.values()];
    statements.push(tx.query(
      `insert into metric_catalog as c (tenant_id, name, kind, first_seen_at, last_seen_at)
       select t.tenant_id, t.name, t.kind, now(), now() from unnest($1::text[], $2::text[], $3::text[]) as t(tenant_id, name, kind)
         join tenants on tenants.id = t.tenant_id
       on conflict (tenant_id, name) do update set last_seen_at = now()`,
      [ms.map((m) => m[0]), ms.map((m) => m[1]), ms.map((m) => m[2])],
    ));
  }
  if (tokens.size) statements.push(tx.query("update device_tokens set last_used_at = now() where id = any($1::uuid[])", [[...tokens]]));
  await Promise.all(statements);

  // Remembered once the statements ran. Should the transaction still roll back, a
  // retried batch skips these names and the catalog learns them on their next
  // message after a minute: the catalog is a directory, never the data itself.
  for (const k of newMetrics.keys()) seenMetrics.set(k, nowMs);
  for (const t of tokens) touchedTokens.set(t, nowMs);
}

/**
 * The batch's telemetry rows in one INSERT, each column one text parameter
 * split on the server. Cheaper than COPY here: COPY cannot load a table under
 * row-level security, so it went through a temporary table (COPY, then
 * INSERT … SELECT), which cost Postgres ~15% more CPU and three more round
 * trips; on PGlite it replaces a multi-row INSERT with four parameters a row.
 * The separators cannot occur in the values: times are ISO-8601, tenant and
 * device ids are slugs (parse.ts), and JSON.stringify never writes a raw
 * newline. (Were one to slip in anyway, the columns would differ in length
 * and a NOT NULL column would refuse the batch: never a row written askew.)
 */
const NO_NESTED_LOOPS = "select set_config('enable_nestloop', 'off', true)";

const TELEMETRY_INSERT = `insert into telemetry (time, tenant_id, device_id, metrics)
  select t::timestamptz, te, d, m::jsonb
    from unnest(string_to_array($1, ','), string_to_array($2, ','), string_to_array($3, ','), string_to_array($4, E'\n')) as u(t, te, d, m)`;
