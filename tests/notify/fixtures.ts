// The notification suites' world: a whole Pulse with the fixed cast, acme's
// fleet (pump-7 at plant tagged zone=north, pump-8 at depot tagged
// zone=south, fan-1 at plant), an API key for alice's tenant-admin work, and
// helpers to send telemetry, make channels and routes, and read deliveries.
// NO_HEARTBEAT is switched off so that clock jumps never raise alerts of
// their own.

import type { LoadOptions } from "../../src/config.ts";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { DEVICES_CHANNEL, notifyChange } from "../../src/db/bus.ts";
import { withSystem } from "../../src/db/scope.ts";
import type { Clock } from "../../src/lib/clock.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import type { DbKind } from "../helpers/databases.ts";

export const DEVICES = [
  { id: "pump-7", site: "plant", tags: { zone: "north" } },
  { id: "pump-8", site: "depot", tags: { zone: "south" } },
  { id: "fan-1", site: "plant", tags: {} },
] as const;

export type DeviceId = (typeof DEVICES)[number]["id"];

export interface Delivery {
  id: number;
  channel_id: string;
  channel_type: string;
  alert_id: string | null;
  event: string;
  idempotency_key: string;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
}

export interface Attempt {
  time: string;
  ok: boolean;
  status_code: number | null;
  latency_ms: number;
  response: string | null;
  error: string | null;
}

export interface ApiResult<T = any> {
  status: number;
  body: T;
}

export interface World {
  pulse: TestPulse;
  /** acme tenant-admin API key. */
  key: string;
  api<T = any>(path: string, init?: { method?: string; body?: unknown; key?: string }): Promise<ApiResult<T>>;
  /** Send one telemetry message for an acme device and wait until alerts are evaluated. */
  send(device: DeviceId, metrics: Record<string, unknown>): Promise<void>;
  /** Deliver what is due now. */
  drain(): Promise<number>;
  /** Make every pending delivery due now, then deliver. */
  retryNow(): Promise<number>;
  /** Create a channel through the API; returns its id (throws on a refusal). */
  channel(type: string, settings: Record<string, unknown>, name?: string): Promise<string>;
  /** Create a routing rule for a channel (all alerts unless narrowed); returns its id. */
  route(channelId: string, extra?: Record<string, unknown>): Promise<string>;
  /** Create a threshold rule (metric GT threshold) through the API; returns its id. */
  rule(metric: string, opts?: { severity?: string; threshold?: number; name?: string; reopen_window_seconds?: number }): Promise<string>;
  deliveries(channelId?: string): Promise<Delivery[]>;
  attempts(deliveryId: number): Promise<Attempt[]>;
  /** The open or latest alert of a device for a metric. */
  alertOf(device: DeviceId, metric: string): Promise<{ id: string; status: string; suppressed: boolean } | undefined>;
  /** Remove every channel (and so routes and queued deliveries): isolation between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWorld(opts: { config?: LoadOptions["overrides"]; clock?: Clock; db?: DbKind } = {}): Promise<World> {
  const pulse = await startPulse({ db: opts.db, clock: opts.clock, config: { "notify.allow_private_networks": true, ...opts.config } });
  await seedCast(pulse.app);
  const key = (await createApiKey({ db: pulse.app.db, clock: pulse.app.clock }, { ...platformAdmin, tenantId: "acme" }, { name: "notify-tests", role: "tenant-admin" })).secret;
  await withSystem(pulse.app.db, async (tx) => {
    for (const site of ["plant", "depot"]) await tx.query("insert into sites (tenant_id, id, name) values ('acme', $1, $1)", [site]);
    for (const d of DEVICES) {
      await tx.query("insert into devices (tenant_id, id, site_id, tags) values ('acme', $1, $2, $3::jsonb)", [d.id, d.site, JSON.stringify(d.tags)]);
      await tx.query("insert into device_tokens (tenant_id, device_id, token_hash) values ('acme', $1, $2)", [d.id, sha256Hex(`tok-${d.id}`)]);
      await notifyChange(tx, DEVICES_CHANNEL, `acme/${d.id}`);
    }
  });

  const api: World["api"] = async (path, init = {}) => {
    const res = await fetch(`${pulse.url}/api/v1${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { Authorization: `Bearer ${init.key ?? key}`, "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (the MIB, errors from outside the API)
    }
    return { status: res.status, body: body as never };
  };

  const must = async <T>(r: Promise<ApiResult<T>>, what: string, ok = [200, 201]): Promise<T> => {
    const res = await r;
    if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  // No NO_HEARTBEAT alerts: the suites move clocks around.
  await must(api("/heartbeat-rules", { body: { name: "quiet", enabled: false } }), "heartbeat rule");

  const world: World = {
    pulse,
    key,
    api,
    send: async (device, metrics) => {
      const res = await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/${device}/telemetry`, { method: "POST", headers: { "X-Provision-Token": `tok-${device}` }, body: JSON.stringify({ metrics }) });
      if (res.status !== 202) throw new Error(`ingest: HTTP ${res.status} ${await res.text()}`);
      await pulse.app.alerts.engine.idle();
    },
    drain: () => pulse.app.drainOutbox(),
    retryNow: async () => {
      await withSystem(pulse.app.db, (tx) => tx.query("update notification_outbox set next_attempt_at = $1, leased_until = null where status = 'pending'", [pulse.app.clock.now()]));
      await withSystem(pulse.app.db, (tx) => tx.query("update notification_channels set circuit_open_until = null"));
      return pulse.app.drainOutbox();
    },
    channel: async (type, settings, name) => (await must(api("/notification-channels", { body: { name: name ?? `${type} channel`, type, settings } }), `channel ${type}`)).id as string,
    route: async (channelId, extra = {}) => (await must(api("/notification-routing-rules", { body: { name: "route", channel_id: channelId, ...extra } }), "route")).id as string,
    rule: async (metric, o = {}) => {
      const body = { name: o.name ?? `${metric} too high`, metric_name: metric, operator: "GT", threshold: o.threshold ?? 80, severity: o.severity ?? "CRITICAL", ...(o.reopen_window_seconds === undefined ? {} : { reopen_window_seconds: o.reopen_window_seconds }) };
      const id = (await must(api("/alert-rules", { body }), "rule")).id as string;
      pulse.app.alerts.engine.invalidate("acme");
      return id;
    },
    deliveries: async (channelId) => (await must(api<{ items: Delivery[] }>(`/deliveries?limit=500${channelId ? `&channel_id=${channelId}` : ""}`), "deliveries")).items.reverse(),
    attempts: async (id) => (await must(api<{ items: Attempt[] }>(`/deliveries/${id}/attempts`), "attempts")).items,
    alertOf: async (device, metric) => {
      const [row] = await withSystem(pulse.app.db, (tx) =>
        tx.query<{ id: string; status: string; suppressed: boolean }>("select id, status, suppressed from alerts where tenant_id = 'acme' and device_id = $1 and metric_name = $2 order by opened_at desc limit 1", [device, metric]),
      );
      return row;
    },
    reset: async () => {
      await pulse.app.drainOutbox();
      await withSystem(pulse.app.db, async (tx) => {
        await tx.query("delete from notification_channels");
        await tx.query("update alert_rules set enabled = false");
        await tx.query("select pg_notify('pulse_rules', 'acme')");
      });
      pulse.app.alerts.engine.invalidate("acme");
    },
    stop: () => pulse.stop(),
  };
  return world;
}

/** The bodies a receiver path got, parsed. */
export const bodies = (reqs: Array<{ body: string }>) => reqs.map((r) => JSON.parse(r.body) as Record<string, any>);
