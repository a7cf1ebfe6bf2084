// Shared by the alerting suites: read alerts and timelines as the system,
// shape devices (tags, parents), wait for a change's NOTIFY to reach this
// node, and call the API as a signed-in person.

import type { App } from "../../src/app.ts";
import { DEVICES_CHANNEL, notifyChange } from "../../src/db/bus.ts";
import { withSystem } from "../../src/db/scope.ts";
import type { Agent } from "../helpers/agent.ts";

export interface AlertOut {
  id: string;
  fingerprint: string;
  alert_type: "THRESHOLD" | "NO_HEARTBEAT";
  rule_id: string | null;
  device_id: string;
  site_id: string | null;
  severity: string;
  status: "OPEN" | "ACKNOWLEDGED" | "CLOSED";
  summary: string;
  metric_name: string | null;
  last_value: unknown;
  trigger_count: number;
  opened_at: string;
  acknowledged_by: string | null;
  closed_by: string | null;
  close_reason: string | null;
  silenced_until: string | null;
  suppressed: boolean;
}

export interface EventOut {
  kind: string;
  actor_kind: string;
  actor_name: string;
  value: unknown;
  details: Record<string, unknown>;
}

/** Every alert of a device (any status, any tenant), oldest first. */
export async function alertsOf(app: Pick<App, "db">, tenant: string, device: string, type?: AlertOut["alert_type"]): Promise<AlertOut[]> {
  const rows = await withSystem(app.db, (tx) =>
    tx.query<AlertOut & { opened_at: Date | string; silenced_until: Date | string | null }>(
      "select * from alerts where tenant_id = $1 and device_id = $2 and ($3::text is null or alert_type = $3) order by opened_at, id",
      [tenant, device, type ?? null],
    ),
  );
  return rows.map((r) => ({ ...r, opened_at: new Date(r.opened_at).toISOString(), silenced_until: r.silenced_until === null ? null : new Date(r.silenced_until).toISOString() }));
}

/** An alert's timeline, in order. */
export async function eventsOf(app: Pick<App, "db">, alertId: string): Promise<EventOut[]> {
  return withSystem(app.db, (tx) => tx.query<EventOut>("select kind, actor_kind, actor_name, value, details from alert_events where alert_id = $1 order by id", [alertId]));
}

/** Give a registered device tags and/or a parent, and tell the ingest cache. */
export async function shapeDevice(app: Pick<App, "db">, tenant: string, device: string, opts: { tags?: Record<string, string>; parent?: string | null }): Promise<void> {
  await withSystem(app.db, async (tx) => {
    if (opts.tags) await tx.query("update devices set tags = $3::jsonb where tenant_id = $1 and id = $2", [tenant, device, JSON.stringify(opts.tags)]);
    if (opts.parent !== undefined) await tx.query("update devices set parent_device_id = $3 where tenant_id = $1 and id = $2", [tenant, device, opts.parent]);
    await notifyChange(tx, DEVICES_CHANNEL, `${tenant}/${device}`);
  });
}

/**
 * Run a change that NOTIFYs `channel` and resolve once this node has heard it
 * (on Postgres the notification arrives asynchronously; the app's own
 * listener was registered first, so it has run by then).
 */
export async function heard<T>(app: Pick<App, "db">, channel: string, change: () => Promise<T>): Promise<T> {
  let got: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (got = resolve));
  const unlisten = await app.db.listen(channel, () => got());
  try {
    const out = await change();
    await Promise.race([arrived, Bun.sleep(5_000).then(() => Promise.reject(new Error(`no NOTIFY on ${channel} within 5 s`)))]);
    await Bun.sleep(0);
    return out;
  } finally {
    await unlisten();
  }
}

/** GET as a signed-in person; fails loudly on anything but 200. */
export async function getJson<T>(a: Agent, path: string): Promise<T> {
  const res = await a.fetch(path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A change (with the session's CSRF token) and its JSON answer. */
export async function send(a: Agent, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await a.send(path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
