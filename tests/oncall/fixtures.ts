// Shared by the on-call and escalation suites: a whole Pulse on a manual
// clock with the fixed cast, acme's pumps, an API key per tenant admin,
// NO_HEARTBEAT switched off (the suites move the clock by hours), and
// helpers to call the API, trip an alert and run the escalation job.

import type { LoadOptions } from "../../src/config.ts";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import { manualClock } from "../../src/lib/clock.ts";
import type { User } from "../../src/auth/users/service.ts";
import { platformAdmin, seedCast, type Cast } from "../helpers/cast.ts";
import type { DbKind } from "../helpers/databases.ts";
import { postMessage, registerDevice, viaSocket, type TestDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

export interface ApiResult<T = any> {
  status: number;
  body: T;
}

export interface World {
  pulse: TestPulse;
  clock: ReturnType<typeof manualClock>;
  cast: Cast;
  /** acme and globex tenant-admin API keys. */
  keys: { acme: string; globex: string };
  devices: Record<string, TestDevice>;
  api<T = any>(path: string, init?: { method?: string; body?: unknown; key?: string }): Promise<ApiResult<T>>;
  /** The body of a call that must succeed. */
  must<T = any>(path: string, init?: { method?: string; body?: unknown; key?: string }): Promise<T>;
  /** A person's Ctx in acme, for calling services directly. */
  as(user: User, role?: Ctx["role"]): Ctx;
  /** Send one telemetry message for an acme device and wait for the alert engine. */
  send(device: string, metrics: Record<string, unknown>): Promise<void>;
  /** Run the escalation job with the clock as it is now (twice: a run already in flight may have read the clock before it moved). */
  escalate(): Promise<void>;
  alert(device: string): Promise<Record<string, any>>;
  events(alertId: string): Promise<Array<{ kind: string; details: Record<string, any> }>>;
  stop(): Promise<void>;
}

export const MINUTE = 60_000;

export async function startWorld(opts: { start: string; db?: DbKind; config?: LoadOptions["overrides"]; devices?: string[] }): Promise<World> {
  const clock = manualClock(opts.start);
  const pulse = await startPulse({ db: opts.db, clock, config: { "notify.allow_private_networks": true, ...opts.config } });
  const cast = await seedCast(pulse.app);
  const keyOf = async (tenantId: string) => (await createApiKey({ db: pulse.app.db, clock }, { ...platformAdmin, tenantId }, { name: "oncall-tests", role: "tenant-admin" })).secret;
  const keys = { acme: await keyOf("acme"), globex: await keyOf("globex") };
  const devices: Record<string, TestDevice> = {};
  for (const d of opts.devices ?? ["pump-7", "pump-8", "fan-1"]) devices[d] = await registerDevice(pulse.app, "acme", d, { site: "plant" });

  const api: World["api"] = async (path, init = {}) => {
    const res = await fetch(`${pulse.url}/api/v1${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { Authorization: `Bearer ${init.key ?? keys.acme}`, "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const must: World["must"] = async (path, init) => {
    const r = await api(path, init);
    if (r.status >= 300) throw new Error(`${init?.method ?? (init?.body === undefined ? "GET" : "POST")} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  // No NO_HEARTBEAT alerts: the suites jump the clock by hours.
  await must("/heartbeat-rules", { body: { name: "quiet", enabled: false } });
  await must("/heartbeat-rules", { body: { name: "quiet", enabled: false }, key: keys.globex });

  return {
    pulse,
    clock,
    cast,
    keys,
    devices,
    api,
    must,
    as: (user, role = "tenant-admin") => ({ tenantId: "acme", actor: { kind: "user", id: user.id, name: user.username }, role }),
    send: async (device, metrics) => {
      const res = await postMessage(viaSocket(pulse), devices[device]!, { metrics });
      if (res.status !== 202) throw new Error(`ingest: HTTP ${res.status} ${await res.text()}`);
      await pulse.app.alerts.engine.idle();
    },
    escalate: async () => {
      await pulse.app.runJob("escalations");
      await pulse.app.runJob("escalations");
    },
    alert: async (device) => {
      const [row] = await withSystem(pulse.app.db, (tx) => tx.query<Record<string, any>>("select * from alerts where tenant_id = 'acme' and device_id = $1 order by opened_at desc limit 1", [device]));
      if (!row) throw new Error(`no alert for ${device}`);
      return row;
    },
    events: (alertId) => withSystem(pulse.app.db, (tx) => tx.query("select kind, details from alert_events where alert_id = $1 order by id", [alertId])),
    stop: () => pulse.stop(),
  };
}
