// The alerting story's set: a Pulse with the fixed cast, acme's devices at
// two sites, rules created as alice would, and real readings sent over HTTP
// ingest (so every alert comes from the engine, never from an INSERT).
// Shared by the alerting and fleet page suites (browser and plain HTTP).

import { createAlertRule, type Rule, type RuleInput } from "../../src/alerts/rules.ts";
import { RULES_CHANNEL } from "../../src/alerts/engine.ts";
import { withSystem } from "../../src/db/scope.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, seedCast, type Cast } from "../helpers/cast.ts";
import { postMessage, registerDevice, viaSocket, type TestDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { heard } from "../alerts/fixtures.ts";
import type { Tab } from "./browser.ts";

export interface AlertStage {
  pulse: TestPulse;
  cast: Cast;
  devices: Map<string, TestDevice>;
  /** Register a device (heartbeat every 60 s) at a site, with a site name. */
  device(tenant: string, id: string, site: string, opts?: { name?: string; siteName?: string }): Promise<TestDevice>;
  /** Create a rule as the tenant's admin and wait until the engine has reloaded. */
  rule(tenant: string, input: RuleInput): Promise<Rule>;
  /** Send one reading over HTTP ingest and wait until the engine has judged it. */
  send(id: string, metrics: Record<string, unknown>, at?: Date): Promise<void>;
  /** Send many readings of one device in one batch (seeded history), then wait. */
  history(id: string, readings: Array<{ at: Date; metrics: Record<string, unknown> }>): Promise<void>;
  /** A signed-in agent (plain HTTP, cookie jar) per person, made once. */
  agent(who: keyof typeof PASSWORDS): Promise<Agent>;
  /** Put a person's session into a browser tab (no sign-in form). */
  signInTab(tab: Tab, who: keyof typeof PASSWORDS, path?: string): Promise<void>;
  count(sql: string, params?: unknown[]): Promise<number>;
  stop(): Promise<void>;
}

export async function startAlertStage(): Promise<AlertStage> {
  // The sweep stays out of the way (no NO_HEARTBEAT surprises) unless a test runs it.
  const pulse = await startPulse({ config: { "devices.status_sweep_seconds": 3600, "auth.session_idle_minutes": 1440 } });
  const cast = await seedCast(pulse.app);
  const devices = new Map<string, TestDevice>();
  const agents = new Map<string, Promise<Agent>>();
  const admins: Record<string, Ctx> = {
    acme: { tenantId: "acme", actor: { kind: "user", id: cast.alice.id, name: "alice" }, role: "tenant-admin" },
    globex: { tenantId: "globex", actor: { kind: "user", id: cast.carol.id, name: "carol" }, role: "tenant-admin" },
  };
  const wait = () => pulse.app.alerts.engine.idle();
  const stage: AlertStage = {
    pulse,
    cast,
    devices,
    async device(tenant, id, site, opts = {}) {
      const d = await registerDevice(pulse.app, tenant, id, { site, heartbeatSeconds: 60 });
      await withSystem(pulse.app.db, async (tx) => {
        if (opts.name) await tx.query("update devices set name = $3 where tenant_id = $1 and id = $2", [tenant, id, opts.name]);
        if (opts.siteName) await tx.query("update sites set name = $3 where tenant_id = $1 and id = $2", [tenant, site, opts.siteName]);
      });
      devices.set(id, d);
      return d;
    },
    async rule(tenant, input) {
      return heard(pulse.app, RULES_CHANNEL, () => createAlertRule({ db: pulse.app.db, clock: pulse.app.clock }, admins[tenant]!, input));
    },
    async send(id, metrics, at) {
      const d = devices.get(id)!;
      const res = await postMessage(viaSocket(pulse), d, { metrics, ...(at ? { ts: at.getTime() / 1000 } : {}) });
      if (res.status !== 202) throw new Error(`ingest of ${id} answered ${res.status}: ${await res.text()}`);
      await wait();
    },
    async history(id, readings) {
      const d = devices.get(id)!;
      const messages = readings.map((r) => ({ tenant_id: d.tenant, device_id: d.device, msg_type: "telemetry", provision_token: d.token, ts: r.at.getTime() / 1000, metrics: r.metrics }));
      const res = await fetch(`${pulse.url}/ingest/v1/batch`, { method: "POST", body: JSON.stringify({ messages }) });
      const body = (await res.json()) as { accepted?: number };
      if (body.accepted !== readings.length) throw new Error(`batch ingest of ${id}: ${JSON.stringify(body)}`);
      await wait();
    },
    agent(who) {
      let a = agents.get(who);
      if (!a) agents.set(who, (a = signedIn(pulse.url, who, PASSWORDS[who])));
      return a;
    },
    async signInTab(tab, who, path = "/") {
      const a = await stage.agent(who);
      await tab.context.addCookies([...a.cookies].map(([name, value]) => ({ name, value, url: pulse.url })));
      await tab.goto(path);
    },
    async count(sql, params = []) {
      const [row] = await withSystem(pulse.app.db, (tx) => tx.query<{ n: number | string }>(sql, params));
      return Number(row!.n);
    },
    stop: () => pulse.stop(),
  };
  return stage;
}

/** The alert a device has open now (as the system sees it). */
export async function openAlertOf(stage: AlertStage, device: string): Promise<{ id: string; summary: string; status: string; severity: string }> {
  const [row] = await withSystem(stage.pulse.app.db, (tx) =>
    tx.query<{ id: string; summary: string; status: string; severity: string }>("select id, summary, status, severity from alerts where device_id = $1 and status <> 'CLOSED' order by opened_at desc limit 1", [device]),
  );
  if (!row) throw new Error(`no open alert for ${device}`);
  return row;
}

/** A form post as a browser without JavaScript sends it (with the session's CSRF token). */
export async function postForm(a: Agent, path: string, fields: Record<string, string | string[]>, opts: { csrf?: boolean } = {}): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  if (opts.csrf !== false) body.set("_csrf", await a.csrf());
  return a.fetch(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
}

/** The flash message a redirect set. */
export function flashOf(res: Response): { kind: string; text: string } | undefined {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("pulse_flash="));
  return cookie ? (JSON.parse(decodeURIComponent(decodeURIComponent(cookie.split(";")[0]!.slice("pulse_flash=".length)))) as { kind: string; text: string }) : undefined;
}
