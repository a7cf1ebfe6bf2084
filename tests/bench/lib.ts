// Shared pieces of the benchmarks (tests/bench/*.ts): start Pulse as a child
// process on free ports against a fresh database, seed a tenant and devices
// directly in SQL, read /metrics and /proc, merge latency histograms, and
// run the raw COPY / INSERT baselines. Benchmarks print figures; they are
// not tests and are never run by `bun test`.

import postgres from "postgres";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { createPostgresDatabase, databaseUrl, dropPostgresDatabase } from "../helpers/databases.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { migrate } from "../../src/db/migrate.ts";
import { openPglite } from "../../src/db/pglite.ts";
import type { Db } from "../../src/db/db.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const TENANT = "bench";
export const SITE = "site-1";
const CLK_TCK = 100;

export * from "./common.ts";
import { sampleMetrics, HIST_SIZE } from "./common.ts";

// ---------------------------------------------------------------- arguments

export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  return v === undefined || v.startsWith("--") ? "true" : v;
}

export function num(args: string[], name: string, dflt: number): number {
  const v = flag(args, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`);
  return n;
}

// ---------------------------------------------------------------- formatting

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "n/a");
export const log = (...parts: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);

// ---------------------------------------------------------------- /proc

/** utime + stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces; fields after ")" are fixed.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Open file descriptor limit (soft) of a process. */
export function nofileLimit(pid: number | "self" = "self"): number {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return !m ? 1024 : m[1] === "unlimited" ? Infinity : Number(m[1]);
}

/** Raise a running process's open-files limit (we run as root here; report what was done). */
export function raiseNofile(pid: number, n: number): string {
  const before = nofileLimit(pid);
  if (before >= n) return `nofile ${before} already >= ${n}`;
  const r = Bun.spawnSync(["prlimit", `--pid=${pid}`, `--nofile=${n}:${n}`]);
  const after = nofileLimit(pid);
  return r.exitCode === 0 ? `raised nofile of pid ${pid} from ${before} to ${after} with prlimit` : `prlimit failed (${r.stderr.toString().trim()}); nofile ${after}`;
}

/** CPU seconds of several processes together. */
export const cpuOf = (pids: readonly number[]) => pids.reduce((s, p) => s + cpuSeconds(p), 0);

// ---------------------------------------------------------------- ports

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- databases

export type DbKind = "postgres" | "pglite";

export interface BenchDb {
  kind: DbKind;
  /** Postgres: owner (superuser) URL of the bench database. */
  url?: string;
  name?: string;
  /** PGlite: Pulse's data_dir (the database is in data_dir/pg). */
  dataDir: string;
  dispose(): Promise<void>;
}

export async function createBenchDb(kind: DbKind): Promise<BenchDb> {
  const dataDir = `/tmp/pulse-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  mkdirSync(dataDir, { recursive: true });
  if (kind === "postgres") {
    const name = await createPostgresDatabase();
    return {
      kind,
      name,
      url: databaseUrl(name),
      dataDir,
      dispose: async () => {
        await dropPostgresDatabase(name).catch((e) => log("drop database failed:", e.message));
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  // PGlite: create and migrate the data directory here, before Pulse owns it.
  const db = await openPglite({ dataDir: join(dataDir, "pg") });
  await migrate(db, { timescale: false });
  await db.close();
  return { kind, dataDir, dispose: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Run SQL as the owner (superuser: row-level security does not apply). */
export async function withOwner<T>(bdb: BenchDb, fn: (q: (text: string, params?: unknown[]) => Promise<unknown[]>) => Promise<T>): Promise<T> {
  if (bdb.kind === "postgres") {
    const sql = postgres(bdb.url!, { max: 1, onnotice: () => {} });
    try {
      return await fn((text, params) => sql.unsafe(text, (params ?? []) as never[]) as unknown as Promise<unknown[]>);
    } finally {
      await sql.end();
    }
  }
  const db: Db = await openPglite({ dataDir: join(bdb.dataDir, "pg") });
  try {
    return await fn((text, params) => db.query(text, params));
  } finally {
    await db.close();
  }
}

export interface Device {
  id: string;
  token: string;
}

/** A tenant, a site and `n` active devices with one token each (hash = sha256 hex). */
export async function seedDevices(bdb: BenchDb, n: number, prefix = "dev"): Promise<Device[]> {
  const devices: Device[] = [];
  for (let i = 0; i < n; i++) devices.push({ id: `${prefix}-${String(i).padStart(5, "0")}`, token: `tok-${prefix}-${i}-${crypto.randomUUID()}` });
  await withOwner(bdb, async (q) => {
    await q("insert into tenants (id, name) values ($1, 'Bench') on conflict do nothing", [TENANT]);
    await q("insert into sites (tenant_id, id, name) values ($1, $2, 'Bench site') on conflict do nothing", [TENANT, SITE]);
    for (let i = 0; i < devices.length; i += 2000) {
      const chunk = devices.slice(i, i + 2000);
      const ids = chunk.map((d) => d.id);
      await q("insert into devices (tenant_id, id, site_id) select $1, unnest($2::text[]), $3", [TENANT, pgArray(ids), SITE]);
      await q("insert into device_tokens (tenant_id, device_id, token_hash) select $1, unnest($2::text[]), unnest($3::text[])", [TENANT, pgArray(ids), pgArray(chunk.map((d) => sha256Hex(d.token)))]);
    }
  });
  return devices;
}

const pgArray = (xs: string[]) => "{" + xs.map((x) => `"${x}"`).join(",") + "}";

// ---------------------------------------------------------------- Pulse as a child

export interface PulseChild {
  pid: number;
  url: string;
  mqttPort: number;
  stderr: () => string;
  stop(): Promise<number>;
}

export async function startPulse(bdb: BenchDb, env: Record<string, string> = {}, opts: { nofile?: number; cpuProf?: string } = {}): Promise<PulseChild> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const pulseEnv: Record<string, string> = {
    PULSE_DATA_DIR: bdb.dataDir,
    PULSE_HTTP_HOST: "127.0.0.1",
    PULSE_HTTP_PORT: String(httpPort),
    PULSE_MQTT_HOST: "127.0.0.1",
    PULSE_MQTT_PORT: String(mqttPort),
    PULSE_MQTT_TLS_PORT: "0",
    PULSE_LOG_LEVEL: "warn",
    PULSE_LOG_FORMAT: "text",
    PULSE_INGEST_DEVICE_RATE_PER_SECOND: "0",
    PULSE_BOOTSTRAP_ADMIN_PASSWORD: "bench-rig-passphrase",
    PULSE_SECURITY_SECRET_KEY: "bench-secret-key-bench-secret-key-bench-secret",
    PULSE_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    ...(bdb.url ? { PULSE_DATABASE_URL: bdb.url } : {}),
    ...env,
  };
  // Only PULSE_* of our own choosing: no stray settings from the caller's shell.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULSE_"))) as Record<string, string>;
  const cmd = ["bun", ...(opts.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProf}`] : []), "src/main.ts", "serve"];
  const proc = Bun.spawn({ cmd, cwd: ROOT, env: { ...base, ...pulseEnv }, stdout: "ignore", stderr: "pipe" });
  let err = "";
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      err += new TextDecoder().decode(chunk);
      if (err.length > 200_000) err = err.slice(-100_000);
    }
  })();
  if (opts.nofile) log(raiseNofile(proc.pid, opts.nofile));
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pulse exited with ${proc.exitCode} during start:\n${err.slice(-4000)}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`pulse not ready after 90 s:\n${err.slice(-4000)}`);
    }
    await Bun.sleep(200);
  }
  return {
    pid: proc.pid,
    url,
    mqttPort,
    stderr: () => err,
    stop: async () => {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const code = await proc.exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Values of one metric in /metrics text, summed over its series (matching `labels` if given). */
export async function scrape(url: string, names: string[]): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { headers: { connection: "close" } })).text();
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    const sp = line.lastIndexOf(" ");
    const brace = line.indexOf("{");
    const name = brace >= 0 && brace < sp ? line.slice(0, brace) : line.slice(0, sp);
    if (name in out) out[name]! += Number(line.slice(sp + 1));
  }
  return out;
}

/** Postgres backend pids serving one database (for the database's CPU share). */
export async function backendPids(bdb: BenchDb): Promise<number[]> {
  if (bdb.kind !== "postgres") return [];
  const sql = postgres(databaseUrl("postgres"), { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${bdb.name!} and pid <> pg_backend_pid()`;
    return rows.map((r) => r.pid);
  } finally {
    await sql.end();
  }
}

/**
 * Raw COPY baseline: rows of the same shape (time, tenant_id, device_id,
 * metrics jsonb) copied into the same telemetry table in batches, one
 * connection, as fast as it goes, for `seconds`. Runs as the owner (a
 * superuser, which row-level security does not hold). Rows/s.
 */
export async function copyBaseline(bdb: BenchDb, devices: number, seconds: number, batch = 5000): Promise<{ rowsPerSecond: number; cpuCores: number; pgCores: number }> {
  const sql = postgres(bdb.url!, { max: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
    const [{ pid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
    let seq = 0;
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    const pg0 = cpuSeconds(pid);
    let rows = 0;
    while (performance.now() - started < seconds * 1000) {
      const now = new Date().toISOString();
      let text = "";
      for (let i = 0; i < batch; i++, seq++) {
        const d = seq % devices;
        text += `${now}\t${TENANT}\tdev-${String(d).padStart(5, "0")}\t${sampleMetrics(d, seq)}\n`;
      }
      const stream = await sql`copy telemetry (time, tenant_id, device_id, metrics) from stdin`.writable();
      await new Promise<void>((resolve, reject) => {
        stream.on("error", reject);
        stream.on("finish", resolve);
        stream.end(text);
      });
      rows += batch;
    }
    const secs = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const pgCores = (cpuSeconds(pid) - pg0) / secs;
    await sql`truncate telemetry`;
    return { rowsPerSecond: rows / secs, cpuCores: (cpu.user + cpu.system) / 1e6 / secs, pgCores };
  } finally {
    await sql.end();
  }
}

/**
 * PGlite baseline: multi-row INSERTs (as Pulse's PGlite writer does) of the
 * same rows into the telemetry table of a throwaway on-disk PGlite in this
 * process, in transactions of `batch` rows. Rows/s.
 */
export async function pgliteBaseline(devices: number, seconds: number, batch = 5000): Promise<{ rowsPerSecond: number }> {
  const dir = `/tmp/pulse-bench-pglite-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const db = await openPglite({ dataDir: dir });
  try {
    await migrate(db, { timescale: false });
    let seq = 0;
    let rows = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      const now = new Date();
      const batchRows: unknown[][] = [];
      for (let i = 0; i < batch; i++, seq++) {
        const d = seq % devices;
        batchRows.push([now, TENANT, `dev-${String(d).padStart(5, "0")}`, sampleMetrics(d, seq)]);
      }
      await db.transaction((tx) => tx.copyRows("telemetry", ["time", "tenant_id", "device_id", "metrics"], batchRows));
      rows += batch;
    }
    return { rowsPerSecond: rows / ((performance.now() - started) / 1000) };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- publisher processes

export interface PublisherReport {
  type: "report";
  sent: number;
  acked: number;
  errors: number;
  hist: number[];
}

export interface PublisherHandle {
  pid: number;
  ready: Promise<void>;
  send(msg: unknown): void;
  /** The next report (after sending {cmd: "report"}). */
  report(): Promise<PublisherReport>;
  stop(): Promise<void>;
  stderr: () => string;
}

export function spawnPublisher(script: string, config: unknown, opts: { nofile?: number } = {}): PublisherHandle {
  let onReady!: () => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((onReady = res), (onFail = rej)));
  const waiting: Array<(r: PublisherReport) => void> = [];
  let err = "";
  const configFile = `/tmp/pulse-bench-publisher-${process.pid}-${Math.random().toString(36).slice(2, 10)}.json`;
  writeFileSync(configFile, JSON.stringify(config));
  const proc = Bun.spawn({
    cmd: ["bun", join(ROOT, "tests/bench", script)],
    cwd: ROOT,
    // In a file: thousands of devices' tokens do not fit in one environment variable.
    env: { ...process.env, BENCH_CONFIG_FILE: configFile },
    stdout: "inherit",
    stderr: "pipe",
    ipc(message) {
      const m = message as { type: string; error?: string };
      if (m.type === "ready") onReady();
      else if (m.type === "fatal") onFail(new Error(m.error));
      else if (m.type === "report") waiting.shift()?.(m as PublisherReport);
    },
  });
  if (opts.nofile) {
    const r = raiseNofile(proc.pid, opts.nofile);
    if (!r.includes("already")) log(r);
  }
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      err += new TextDecoder().decode(chunk);
      if (err.length > 50_000) err = err.slice(-20_000);
    }
  })();
  void proc.exited.then((code) => {
    rmSync(configFile, { force: true });
    onFail(new Error(`publisher exited with ${code}: ${err.slice(-2000)}`));
  });
  return {
    pid: proc.pid,
    ready,
    send: (msg) => proc.send(msg),
    report: () => {
      const p = new Promise<PublisherReport>((res) => waiting.push(res));
      proc.send({ cmd: "report" });
      return p;
    },
    stop: async () => {
      try {
        proc.send({ cmd: "stop" });
      } catch {}
      const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(t);
    },
    stderr: () => err,
  };
}

/** Merge reports of several publishers. */
export function mergeReports(rs: PublisherReport[]): PublisherReport {
  const hist = new Array<number>(HIST_SIZE).fill(0);
  let sent = 0;
  let acked = 0;
  let errors = 0;
  for (const r of rs) {
    sent += r.sent;
    acked += r.acked;
    errors += r.errors;
    for (let i = 0; i < HIST_SIZE; i++) hist[i]! += r.hist[i] ?? 0;
  }
  return { type: "report", sent, acked, errors, hist };
}
