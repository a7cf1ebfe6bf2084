// The `pulse` command as an operator meets it, spawned for real from source:
// help and usage errors, config check, start-up failures that say what to
// change, migrate and status with and without a running server, the data
// dir lock, a clean SIGTERM and a fast restart, and the one-time admin
// password. Exit codes: 0 ok, 1 failure, 2 usage.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, createServer } from "node:net";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { POSTGRES_URL, createPostgresDatabase, databaseUrl, dropPostgresDatabase, tempDir } from "../helpers/databases.ts";

// These tests start whole servers (a first start runs initdb, ~3-5 s, more on
// a busy machine). bun test ignores bunfig's [test] timeout, so set it here.
setDefaultTimeout(60_000);

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const SECRET_KEY = "cli-test-secret-key-0123456789abcdefghij";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Whatever a failed test leaves running is stopped at the end, and the data dirs removed.
const running = new Set<Server>();
const dataDirs: string[] = [];
afterAll(async () => {
  for (const s of running) if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
  await Promise.all([...running].map((s) => s.proc.exited));
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A port nobody listens on right now (1883 and 8080 may be taken on this machine). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The environment of one Pulse box: its own data dir and free ports, quiet
 * logs, no TLS listener. Nothing PULSE_* is inherited from this process.
 */
async function boxEnv(extra: Record<string, string | undefined> = {}): Promise<Record<string, string>> {
  const dataDir = tempDir();
  dataDirs.push(dataDir);
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PULSE_DATA_DIR: dataDir,
    PULSE_HTTP_HOST: "127.0.0.1",
    PULSE_HTTP_PORT: String(await freePort()),
    PULSE_MQTT_HOST: "127.0.0.1",
    PULSE_MQTT_PORT: String(await freePort()),
    PULSE_MQTT_TLS_PORT: "0",
    PULSE_LOG_LEVEL: "warn",
    PULSE_SECURITY_SECRET_KEY: SECRET_KEY,
    PULSE_BOOTSTRAP_ADMIN_PASSWORD: "cli-rig-operator-passphrase",
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Run `pulse <args>` to completion. The cwd is the data dir, so no stray ./config.toml is read. */
async function pulse(args: string[], env: Record<string, string>): Promise<Run> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { env, cwd: env.PULSE_DATA_DIR!, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

/** A `pulse serve` running in the background, with its output collected as it comes. */
interface Server {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Milliseconds from spawn until /readyz answered 200. */
  readyAfterMs: number;
  /** SIGTERM; resolves with the exit code and how long it took. */
  terminate(): Promise<{ code: number; ms: number }>;
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) into.push(decoder.decode(chunk, { stream: true }));
}

async function startServe(env: Record<string, string>): Promise<Server> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, MAIN, "serve"], { env, cwd: env.PULSE_DATA_DIR!, stdout: "pipe", stderr: "pipe" });
  const out: string[] = [];
  const err: string[] = [];
  const done = Promise.all([collect(proc.stdout, out), collect(proc.stderr, err)]);
  const url = `http://127.0.0.1:${env.PULSE_HTTP_PORT}`;
  const server: Server = {
    proc,
    url,
    stdout: () => out.join(""),
    stderr: () => err.join(""),
    readyAfterMs: 0,
    terminate: async () => {
      const t = performance.now();
      proc.kill("SIGTERM");
      const code = await proc.exited;
      await done;
      return { code, ms: performance.now() - t };
    },
  };
  running.add(server);
  while (performance.now() - started < 30_000) {
    if (proc.exitCode !== null) throw new Error(`pulse serve exited ${proc.exitCode} before ready: ${server.stderr()}`);
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) {
      server.readyAfterMs = performance.now() - started;
      return server;
    }
    await Bun.sleep(50);
  }
  proc.kill("SIGKILL");
  throw new Error(`pulse serve not ready within 30 s: ${server.stderr()}`);
}

describe("help and usage errors", () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    env = await boxEnv();
  });

  test("pulse with no command prints help and exits 2", async () => {
    const run = await pulse([], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("Usage: pulse <command> [options]");
    for (const command of ["serve", "migrate", "config", "status", "version", "healthcheck"]) expect(run.stdout).toContain(`  ${command} `);
  });

  test("help for a command exits 0, whether asked as 'help serve' or 'serve --help'", async () => {
    for (const args of [["help", "serve"], ["serve", "--help"], ["serve", "-h"]]) {
      const run = await pulse(args, env);
      expect(run.code).toBe(0);
      expect(run.stdout).toStartWith("Usage: pulse serve");
    }
    expect((await pulse(["--help"], env)).code).toBe(0);
  });

  test("an unknown command exits 2 with the list of commands on stderr", async () => {
    for (const args of [["frobnicate"], ["help", "frobnicate"]]) {
      const run = await pulse(args, env);
      expect(run.code).toBe(2);
      expect(run.stderr).toStartWith("pulse: unknown command 'frobnicate'");
      expect(run.stderr).toContain("Usage: pulse <command> [options]");
      expect(run.stdout).toBe("");
    }
  });

  test("an unknown flag exits 2 with the command's usage, and starts nothing", async () => {
    for (const [args, flag] of [
      [["serve", "--port", "80"], "--port"],
      [["status", "--verbose"], "--verbose"],
      [["version", "--short"], "--short"],
      [["config", "check", "--yaml"], "--yaml"],
    ] as const) {
      const run = await pulse([...args], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toStartWith(`pulse ${args[0]}: Unknown option '${flag}'`);
      expect(run.stderr).toContain(`Usage: pulse ${args[0]}`);
      expect(run.stdout).toBe("");
    }
  });

  test("pulse version prints the version, the commit and the runtime", async () => {
    const run = await pulse(["version"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^pulse \d+\.\d+\.\d+ \(\S+\) bun \d+\.\d+\.\d+\n$/);
    expect((await pulse(["--version"], env)).stdout).toBe(run.stdout);
  });
});

describe("pulse config check", () => {
  const dbPassword = "Db-Passw0rd-Never-Printed";

  test("prints the effective config with where each value came from, secrets masked", async () => {
    const env = await boxEnv({
      PULSE_DATABASE_URL: `postgres://pulse:${dbPassword}@db.internal:5432/pulse`,
      PULSE_BOOTSTRAP_ADMIN_PASSWORD: undefined,
    });
    const run = await pulse(["config", "check"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toStartWith("config ok\n");
    expect(run.stdout).toMatch(new RegExp(`http\\.port +${env.PULSE_HTTP_PORT}  \\(env\\)`));
    expect(run.stdout).toMatch(/database\.url +"postgres:\/\/pulse:\*\*\*\*@db\.internal:5432\/pulse"  \(env\)/);
    expect(run.stdout).toMatch(/security\.secret_key +"\*\*\*\*"  \(env\)/);
    expect(run.stdout).toMatch(/log\.format +"json"\n/);
    expect(run.stdout).not.toContain(dbPassword);
    expect(run.stdout).not.toContain(SECRET_KEY);

    const json = await pulse(["config", "check", "--json"], env);
    expect(JSON.parse(json.stdout)["database.url"]).toEqual({ value: "postgres://pulse:****@db.internal:5432/pulse", source: "env" });
    expect(json.stdout).not.toContain(dbPassword);
    expect(json.stdout).not.toContain(SECRET_KEY);
  });

  test("reads ./config.toml when present, or the file given with --config; the environment still wins", async () => {
    const env = await boxEnv();
    writeFileSync(join(env.PULSE_DATA_DIR!, "config.toml"), '[log]\nlevel = "debug"\nformat = "text"\n');
    const local = await pulse(["config", "check"], env);
    expect(local.code).toBe(0);
    expect(local.stdout).toMatch(/log\.level +"warn"  \(env\)/);
    expect(local.stdout).toMatch(/log\.format +"text"  \(file\)/);

    const other = join(env.PULSE_DATA_DIR!, "other.toml");
    writeFileSync(other, "[mqtt]\nenabled = false\n");
    const given = await pulse(["config", "check", "--config", other], env);
    expect(given.stdout).toMatch(/mqtt\.enabled +false  \(file\)/);
    expect(given.stdout).toMatch(/log\.format +"json"\n/);

    writeFileSync(other, "[mqtt]\nenabeld = false\n");
    const typo = await pulse(["config", "check", "-c", other], env);
    expect(typo.code).toBe(1);
    expect(lines(typo.stderr)).toEqual([`pulse: config: ${other}: mqtt.enabeld: unknown setting`]);
  });

  test("a bad value exits 1 naming the variable, without echoing a secret", async () => {
    const run = await pulse(["config", "check"], await boxEnv({ PULSE_DATABASE_URL: `mysql://pulse:${dbPassword}@db/pulse` }));
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual(["pulse: config: PULSE_DATABASE_URL: invalid value (secret); expected a postgres: or postgresql: URL"]);
  });

  test("config check without 'check' is a usage error", async () => {
    const run = await pulse(["config"], await boxEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing subcommand");
  });
});

describe("pulse serve refuses to start with one line that says what to change", () => {
  // One data dir for all three: the first start that gets to the database initialises it.
  let env: Record<string, string>;
  beforeAll(async () => {
    env = await boxEnv();
  });

  test("a bad config value names the variable and the value", async () => {
    const run = await pulse(["serve"], { ...env, PULSE_HTTP_PORT: "99999" });
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual(['pulse: config: PULSE_HTTP_PORT: invalid value "99999"; expected an integer from 0 to 65535']);
  });

  test("an HTTP port that is taken names the port and the setting that moves it", async () => {
    const port = Number(env.PULSE_HTTP_PORT);
    const squatter = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("someone else") });
    try {
      const run = await pulse(["serve"], env);
      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toContain(`http.port: port ${port} on 127.0.0.1 is already in use`);
      expect(run.stderr).toContain("PULSE_HTTP_PORT");
    } finally {
      await squatter.stop(true);
    }
  });

  test("an MQTT port that is taken names the port and mqtt.port", async () => {
    const port = Number(env.PULSE_MQTT_PORT);
    const squatter = Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("someone else") });
    try {
      const run = await pulse(["serve"], env);
      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toContain(`mqtt.port: port ${port} on 127.0.0.1 is already in use`);
      expect(run.stderr).toContain("PULSE_MQTT_PORT");
    } finally {
      await squatter.stop(true);
    }
    // Nothing is left behind that would stop the next start.
    const status = await pulse(["status"], env);
    expect(status.stdout).toContain("server    not running");
  });
});

describe("a box on the embedded database, from first migrate to restart", () => {
  let env: Record<string, string>;
  let server: Server;
  let bannerPassword: string;
  let firstReadyMs: number;
  beforeAll(async () => {
    // No bootstrap password: the first start must generate one and show it once.
    // Info logs, so there is plenty of stdout in which the password must not appear.
    env = await boxEnv({ PULSE_BOOTSTRAP_ADMIN_PASSWORD: undefined, PULSE_LOG_LEVEL: "info" });
  });

  test("pulse migrate on an empty data dir applies every migration", async () => {
    const run = await pulse(["migrate"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^applied 0001_init\.sql, .*; database at migration \d+\n/m);
  });

  test("a second pulse migrate says the database is up to date", async () => {
    const run = await pulse(["migrate"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^database is up to date at migration \d+\n$/);
  });

  test("pulse status with no server opens the database itself", async () => {
    const run = await pulse(["status"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("server    not running");
    expect(run.stdout).toMatch(/database  pglite \S+, migration \d+/);
    expect(run.stdout).toContain("users     0");
  });

  test("the first start prints the one-time admin password on stderr, never in the logs", async () => {
    server = await startServe(env);
    firstReadyMs = server.readyAfterMs;
    // The banner follows the "ready" line; give stderr a moment to arrive.
    for (let i = 0; i < 40 && !server.stderr().includes("One-time password"); i++) await Bun.sleep(50);
    const match = server.stderr().match(/One-time password: (\S+)/);
    expect(match).not.toBeNull();
    bannerPassword = match![1]!;
    expect(bannerPassword.length).toBeGreaterThanOrEqual(12);
    expect(server.stderr()).toContain("operator-admin account 'admin'");
    expect(server.stdout()).toContain('"msg":"ready"');
    expect(server.stdout()).not.toContain(bannerPassword);
  });

  test("pulse status asks the running server over the control socket", async () => {
    const run = await pulse(["status"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/server    running, up \d+/);
    expect(run.stdout).toContain("users     1");
    const json = JSON.parse((await pulse(["status", "--json"], env)).stdout);
    expect(json).toMatchObject({ server: "running", database: { kind: "pglite" }, counts: { users: 1 } });
  });

  test("pulse healthcheck exits 0 while the server is healthy and ready", async () => {
    expect((await pulse(["healthcheck"], env)).code).toBe(0);
    expect((await pulse(["healthcheck", "--ready"], env)).code).toBe(0);
  });

  test("a second pulse serve on the same data dir exits 1 naming the data dir lock", async () => {
    const run = await pulse(["serve"], { ...env, PULSE_HTTP_PORT: String(await freePort()), PULSE_MQTT_PORT: String(await freePort()) });
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(`data_dir ${env.PULSE_DATA_DIR} is in use by another Pulse (pid ${server.proc.pid})`);
    // The first server did not notice.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  test("SIGTERM stops the server cleanly: exit 0 within 10 s, even with a device connected that never hangs up", async () => {
    // A connection that has not sent CONNECT yet (aedes does not know it) and stays open:
    // the MQTT listener's close waits for its connections, so shutdown must end them itself.
    const device = connect(Number(env.PULSE_MQTT_PORT), "127.0.0.1");
    await new Promise<void>((resolve, reject) => device.once("connect", () => resolve()).once("error", reject));
    const hungUp = new Promise<void>((resolve) => device.once("close", () => resolve()));
    const { code, ms } = await server.terminate();
    await hungUp;
    console.log(`pulse serve (pglite, from source): SIGTERM to exit ${Math.round(ms)} ms`);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(server.stdout()).toContain('"msg":"stopped"');
    expect(server.stdout()).not.toContain(bannerPassword);
    // With nothing listening, the container health check fails, naming what it asked.
    const health = await pulse(["healthcheck"], env);
    expect(health.code).toBe(1);
    expect(health.stderr).toBe(`pulse healthcheck: http://127.0.0.1:${env.PULSE_HTTP_PORT}/healthz did not answer\n`);
  });

  test("a restart on the same data dir becomes ready quickly and prints no banner", async () => {
    server = await startServe(env);
    console.log(`pulse serve (pglite, from source): first start ready in ${Math.round(firstReadyMs)} ms, restart ready in ${Math.round(server.readyAfterMs)} ms`);
    expect(server.readyAfterMs).toBeLessThan(10_000);
    const { code } = await server.terminate();
    expect(code).toBe(0);
    expect(server.stderr()).not.toContain("One-time password");
    expect(server.stderr()).not.toContain("operator-admin account");
    expect(server.stdout()).not.toContain(bannerPassword);
  });
});

describe("pulse migrate and status against Postgres", () => {
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  const created: string[] = [];
  afterAll(async () => {
    for (const name of created) await dropPostgresDatabase(name);
    await admin.end();
  });

  test("pulse migrate on an empty Postgres database applies every migration, then says up to date", async () => {
    const name = `pulse_cli_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await admin.unsafe(`create database ${name}`);
    created.push(name);
    const env = await boxEnv({ PULSE_DATABASE_URL: databaseUrl(name) });
    const first = await pulse(["migrate"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied 0001_init\.sql, .*; database at migration \d+\n/m);
    const second = await pulse(["migrate"], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^database is up to date at migration \d+\n$/);
  });

  test("pulse status reports the Postgres server when no Pulse runs", async () => {
    const name = await createPostgresDatabase();
    created.push(name);
    const run = await pulse(["status"], await boxEnv({ PULSE_DATABASE_URL: databaseUrl(name) }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("server    not running");
    expect(run.stdout).toMatch(/database  postgres \d+\.\d+/);
    expect(run.stdout).toContain("tenants   0");
  });

  test("an unreachable Postgres is one line naming the problem, never the password", async () => {
    const port = await freePort();
    const run = await pulse(["status"], await boxEnv({ PULSE_DATABASE_URL: `postgres://pulse:Unreachable-Passw0rd@127.0.0.1:${port}/pulse` }));
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toStartWith(`pulse status: db: cannot connect to postgres://pulse:****@127.0.0.1:${port}/pulse: `);
    expect(run.stderr).not.toContain("Unreachable-Passw0rd");
  });
});
