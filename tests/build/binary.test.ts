// The shipped artifact: `bun run build` makes dist/pulse, one executable that
// must run on its own in an empty directory, with nothing of the source tree
// next to it: migrations, PGlite and web assets are all inside. We start it,
// use it, stop it with SIGTERM, and time how fast it comes back.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { POSTGRES_URL, databaseUrl, dropPostgresDatabase, tempDir } from "../helpers/databases.ts";

// These tests start whole servers (a first start runs initdb, ~3-5 s, more on
// a busy machine). bun test ignores bunfig's [test] timeout, so set it here.
setDefaultTimeout(60_000);

const ROOT = join(import.meta.dir, "..", "..");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Running {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
  readyAfterMs: number;
  output(): { stdout: string; stderr: string };
  terminate(): Promise<{ code: number; ms: number }>;
}

// Each box holds a copy of the ~130 MB executable: stop what runs and remove them.
const started = new Set<Running>();
const boxes: string[] = [];
afterAll(async () => {
  for (const r of started) if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
  await Promise.all([...started].map((r) => r.proc.exited));
  for (const dir of boxes) rmSync(dir, { recursive: true, force: true });
});

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) into.push(decoder.decode(chunk, { stream: true }));
}

/** Start `./pulse serve` in dir and wait (up to 30 s) until /readyz answers 200. */
async function startBinary(dir: string, env: Record<string, string>): Promise<Running> {
  const t0 = performance.now();
  const proc = Bun.spawn([join(dir, "pulse"), "serve"], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
  const out: string[] = [];
  const err: string[] = [];
  const done = Promise.all([collect(proc.stdout, out), collect(proc.stderr, err)]);
  const url = `http://127.0.0.1:${env.PULSE_HTTP_PORT}`;
  const running: Running = {
    proc,
    url,
    readyAfterMs: 0,
    output: () => ({ stdout: out.join(""), stderr: err.join("") }),
    terminate: async () => {
      const t = performance.now();
      proc.kill("SIGTERM");
      const code = await proc.exited;
      await done;
      return { code, ms: performance.now() - t };
    },
  };
  started.add(running);
  while (performance.now() - t0 < 30_000) {
    if (proc.exitCode !== null) throw new Error(`dist/pulse exited ${proc.exitCode} before ready: ${err.join("")}`);
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) {
      running.readyAfterMs = performance.now() - t0;
      return running;
    }
    await Bun.sleep(50);
  }
  proc.kill("SIGKILL");
  throw new Error(`dist/pulse not ready within 30 s: ${err.join("")}`);
}

/** An empty directory holding only the executable, and the environment of a box there. */
async function box(extra: Record<string, string> = {}): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = tempDir();
  boxes.push(dir);
  copyFileSync(join(ROOT, "dist", "pulse"), join(dir, "pulse"));
  const env: Record<string, string> = {
    PATH: "/usr/bin:/bin",
    PULSE_DATA_DIR: join(dir, "data"),
    PULSE_HTTP_HOST: "127.0.0.1",
    PULSE_HTTP_PORT: String(await freePort()),
    PULSE_MQTT_HOST: "127.0.0.1",
    PULSE_MQTT_PORT: String(await freePort()),
    PULSE_MQTT_TLS_PORT: "0",
    PULSE_LOG_LEVEL: "warn",
    PULSE_SECURITY_SECRET_KEY: "binary-test-secret-key-0123456789abcdef",
    PULSE_BOOTSTRAP_ADMIN_PASSWORD: "binary-rig-passphrase",
    ...extra,
  };
  return { dir, env };
}

beforeAll(async () => {
  const t = performance.now();
  const build = Bun.spawn([process.execPath, "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`bun run build failed (${code}):\n${stdout}\n${stderr}`);
  console.log(`bun run build: ${Math.round(performance.now() - t)} ms`);
});

describe("dist/pulse on the embedded database, alone in an empty directory", () => {
  let dir: string;
  let env: Record<string, string>;
  let server: Running;

  test("the first start initialises the database and becomes ready within 30 s", async () => {
    ({ dir, env } = await box());
    expect(readdirSync(dir)).toEqual(["pulse"]);
    server = await startBinary(dir, env);
    console.log(`dist/pulse (pglite): first start (initdb + migrations) ready in ${Math.round(server.readyAfterMs)} ms`);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: "ready", checks: { database: "ok", mqtt: "ok" } });
  });

  test("it answers the API and renders the web UI from embedded assets", async () => {
    const version = await fetch(`${server.url}/api/v1/version`);
    expect(version.status).toBe(200);
    const body = (await version.json()) as { version: string; commit: string; api: string };
    expect(body).toMatchObject({ api: "v1", version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    // Built binaries know their commit; running from source says "source".
    expect(body.commit).not.toBe("source");

    const page = await fetch(`${server.url}/`, { headers: { Accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/i);
    // Every stylesheet and script the page links to is served from inside the binary.
    const assets = [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect((await fetch(`${server.url}${asset}`)).status).toBe(200);
  });

  test("SIGTERM exits 0 within 10 s", async () => {
    const { code, ms } = await server.terminate();
    console.log(`dist/pulse (pglite): SIGTERM to exit ${Math.round(ms)} ms`);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(server.output().stdout).not.toContain('"level":"error"');
    expect(server.output().stderr).not.toMatch(/error/i);
  });

  test("a restart on the same data dir is ready quickly", async () => {
    server = await startBinary(dir, env);
    console.log(`dist/pulse (pglite): restart ready in ${Math.round(server.readyAfterMs)} ms`);
    expect(server.readyAfterMs).toBeLessThan(10_000);
    expect((await fetch(`${server.url}/api/v1/version`)).status).toBe(200);
    expect((await server.terminate()).code).toBe(0);
  });
});

describe("dist/pulse on Postgres", () => {
  const name = `pulse_bin_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  afterAll(() => dropPostgresDatabase(name));

  test("migrates an empty database with its embedded migrations, serves, and stops cleanly", async () => {
    const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${name}`);
    } finally {
      await admin.end();
    }
    const { dir, env } = await box({ PULSE_DATABASE_URL: databaseUrl(name) });
    const server = await startBinary(dir, env);
    console.log(`dist/pulse (postgres): first start (migrations) ready in ${Math.round(server.readyAfterMs)} ms`);
    expect((await fetch(`${server.url}/api/v1/version`)).status).toBe(200);
    // The alert writer thread (an entrypoint of its own in the executable) is up, with its connections.
    const watcher = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
    try {
      expect((await watcher`select count(*)::int as n from pg_stat_activity where datname = ${name} and application_name = 'pulse-alerts'`)[0]!.n).toBeGreaterThanOrEqual(1);
    } finally {
      await watcher.end();
    }
    expect((await server.terminate()).code).toBe(0);

    const restarted = await startBinary(dir, env);
    console.log(`dist/pulse (postgres): restart ready in ${Math.round(restarted.readyAfterMs)} ms`);
    expect(restarted.readyAfterMs).toBeLessThan(10_000);
    expect((await restarted.terminate()).code).toBe(0);
    // Postgres holds the data: the data dir has no embedded database.
    expect(readdirSync(env.PULSE_DATA_DIR!)).not.toContain("pg");
  });
});
