// `pulse site` and `pulse device` as an operator meets them, spawned for
// real: against a running server (over its control socket) and without one
// (the database opened directly). The token `device add` prints works for
// HTTP ingest; `device import` writes the tokens to FILE.credentials.csv
// with mode 0600 and says so, and imports nothing when a row is bad.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/databases.ts";
import { freePort } from "../helpers/pulse.ts";

// Suites boot whole servers on a busy machine; hooks get the same room as tests.
setDefaultTimeout(120_000);

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function pulse(args: string[], env: Record<string, string>): Promise<Run> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { env, cwd: env.PULSE_DATA_DIR!, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

describe("pulse site and pulse device", () => {
  let env: Record<string, string>;
  let dataDir: string;
  let server: ReturnType<typeof Bun.spawn> | undefined;
  let url: string;

  const ok = async (args: string[]): Promise<Run> => {
    const run = await pulse(args, env);
    if (run.code !== 0) throw new Error(`pulse ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
    return run;
  };

  beforeAll(async () => {
    dataDir = tempDir();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Nothing PULSE_* is inherited from this process.
    env = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PULSE_DATA_DIR: dataDir,
      PULSE_HTTP_HOST: "127.0.0.1",
      PULSE_HTTP_PORT: String(port),
      PULSE_MQTT_HOST: "127.0.0.1",
      PULSE_MQTT_PORT: String(await freePort()),
      PULSE_MQTT_TLS_PORT: "0",
      PULSE_LOG_LEVEL: "warn",
      PULSE_SECURITY_SECRET_KEY: "cli-test-secret-key-0123456789abcdefghij",
      PULSE_BOOTSTRAP_ADMIN_PASSWORD: "cli-rig-operator-passphrase",
    };
    server = Bun.spawn([process.execPath, MAIN, "serve"], { env, cwd: dataDir, stdout: "ignore", stderr: "pipe" });
    const until = Date.now() + 60_000;
    while ((await fetch(`${url}/readyz`).catch(() => undefined))?.status !== 200) {
      if (server.exitCode !== null) throw new Error(`pulse serve exited ${server.exitCode}: ${await new Response(server.stderr as ReadableStream).text()}`);
      if (Date.now() > until) throw new Error("pulse serve not ready within 60 s");
      await Bun.sleep(100);
    }
    await ok(["tenant", "create", "acme", "--name", "Acme Corp"]);
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill("SIGKILL");
      await server.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("site add, device add (the token is printed once and works), list with status and connectivity", async () => {
    expect((await ok(["site", "add", "--tenant", "acme", "lab-1", "--name", "Lab one", "--timezone", "Europe/Berlin"])).stdout).toBe("site lab-1 created: Lab one (Europe/Berlin)\n");
    const added = await ok(["device", "add", "--tenant", "acme", "--site", "lab-1", "pump-1", "--name", "Pump one", "--tag", "zone=cold", "--tag", "line=3"]);
    const token = added.stdout.trim();
    expect(Buffer.from(token, "base64url").length).toBe(32);
    expect(added.stderr).toContain("only time");
    const sent = await fetch(`${url}/ingest/v1/tenant/acme/device/pump-1/telemetry`, { method: "POST", headers: { "X-Provision-Token": token }, body: JSON.stringify({ metrics: { temp_c: 4 } }) });
    expect(sent.status).toBe(202);

    await ok(["device", "add", "--tenant", "acme", "--site", "lab-1", "pump-2"]);
    const list = await ok(["device", "list", "--tenant", "acme"]);
    const rows = list.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^ID +STATUS +CONNECTIVITY +SITE +LAST SEEN +NAME$/);
    expect(rows[1]).toMatch(/^pump-1 +ACTIVE +(ONLINE|OFFLINE) +lab-1 +\d{4}-\d\d-\d\dT\S+ +Pump one$/);
    expect(rows[2]).toMatch(/^pump-2 +ACTIVE +OFFLINE +lab-1 +never +pump-2$/);
    const json = JSON.parse((await ok(["device", "list", "--tenant", "acme", "--json"])).stdout) as Array<{ id: string; tags: Record<string, string> }>;
    expect(json.map((d) => [d.id, d.tags])).toEqual([
      ["pump-1", { zone: "cold", line: "3" }],
      ["pump-2", {}],
    ]);

    const unknownSite = await pulse(["device", "add", "--tenant", "acme", "--site", "nowhere", "pump-3"], env);
    expect(unknownSite.code).toBe(1);
    expect(unknownSite.stderr).toContain("no site nowhere");
    expect((await pulse(["device", "add", "--tenant", "acme", "pump-3"], env)).stderr).toContain("--site is required");
    expect((await pulse(["device", "add", "--site", "lab-1", "pump-3", "--bogus"], env)).code).toBe(2);
  });

  test("rotate-token prints a new token; the old one stops (or lives on for the overlap)", async () => {
    const old = (await ok(["device", "add", "--tenant", "acme", "--site", "lab-1", "meter-1"])).stdout.trim();
    const send = (token: string) => fetch(`${url}/ingest/v1/tenant/acme/device/meter-1/heartbeat`, { method: "POST", headers: { "X-Provision-Token": token }, body: "{}" }).then((r) => r.status);
    const overlapped = (await ok(["device", "rotate-token", "--tenant", "acme", "meter-1", "--overlap-seconds", "3600"])).stdout.trim();
    expect([await send(old), await send(overlapped)]).toEqual([202, 202]);
    const fresh = (await ok(["device", "rotate-token", "--tenant", "acme", "meter-1"])).stdout.trim();
    expect([await send(old), await send(overlapped), await send(fresh)]).toEqual([401, 401, 202]);
  });

  test("revoke decommissions: ingest answers DEVICE_REVOKED", async () => {
    const token = (await ok(["device", "add", "--tenant", "acme", "--site", "lab-1", "old-1"])).stdout.trim();
    const run = await ok(["device", "revoke", "--tenant", "acme", "old-1", "--reason", "water damage"]);
    expect(run.stdout).toContain("device old-1 decommissioned (water damage)");
    const res = await fetch(`${url}/ingest/v1/tenant/acme/device/old-1/telemetry`, { method: "POST", headers: { "X-Provision-Token": token }, body: JSON.stringify({ metrics: { t: 1 } }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { reason: string }).reason).toBe("DEVICE_REVOKED");
    expect((await ok(["device", "list", "--tenant", "acme"])).stdout).toMatch(/old-1 +REVOKED/);
  });

  test("import writes FILE.credentials.csv (mode 0600), says so, and refuses to overwrite it", async () => {
    const file = join(dataDir, "fleet.csv");
    writeFileSync(file, "device_id,name,site_id,tags\nimp-1,\"Imported, one\",lab-1,zone=dry\nimp-2,,lab-1,\n");
    const run = await ok(["device", "import", "--tenant", "acme", file]);
    expect(run.stdout).toBe("imported 2 devices\n");
    const creds = join(dataDir, "fleet.credentials.csv");
    expect(run.stderr).toContain(`wrote 2 provision tokens to ${creds} (mode 0600)`);
    expect(statSync(creds).mode & 0o777).toBe(0o600);
    const lines = readFileSync(creds, "utf8").trim().split("\r\n");
    expect(lines[0]).toBe("device_id,provision_token");
    const [id, token] = lines[1]!.split(",");
    expect(id).toBe("imp-1");
    const res = await fetch(`${url}/ingest/v1/tenant/acme/device/imp-1/telemetry`, { method: "POST", headers: { "X-Provision-Token": token! }, body: JSON.stringify({ metrics: { t: 1 } }) });
    expect(res.status).toBe(202);

    const again = await pulse(["device", "import", "--tenant", "acme", file], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists; move it away first");
  });

  test("an import with a bad row prints the line and problem, imports nothing and leaves no credentials file", async () => {
    const file = join(dataDir, "broken.csv");
    writeFileSync(file, "device_id,site_id,heartbeat_seconds\nok-1,lab-1,60\nbad-1,lab-1,often\n");
    const run = await pulse(["device", "import", "--tenant", "acme", file], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("line 3 (bad-1): heartbeat_seconds:");
    expect(run.stdout).toContain("1 of 2 rows have problems; nothing was imported");
    expect(existsSync(join(dataDir, "broken.credentials.csv"))).toBe(false);
    expect((await ok(["device", "list", "--tenant", "acme"])).stdout).not.toContain("ok-1");
    writeFileSync(join(dataDir, "dry.csv"), "device_id,site_id\ndry-1,lab-1\n");
    const dry = await ok(["device", "import", "--tenant", "acme", "--dry-run", join(dataDir, "dry.csv")]);
    expect(dry.stdout).toBe("all 1 rows are fine (dry run: nothing was imported)\n");
    expect(existsSync(join(dataDir, "dry.credentials.csv"))).toBe(false);
  });

  test("without a running server the commands open the database themselves", async () => {
    server!.kill("SIGTERM");
    expect(await server!.exited).toBe(0);
    const list = await ok(["device", "list", "--tenant", "acme"]);
    expect(list.stdout).toMatch(/pump-1 +ACTIVE/);
    expect((await ok(["site", "list", "--tenant", "acme"])).stdout).toMatch(/lab-1 +6 +Europe\/Berlin +Lab one/);
  });
});
