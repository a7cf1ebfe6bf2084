// NO_HEARTBEAT, raised and cleared by the leader after each status sweep: a
// device gone OFFLINE (heard at least once, its tenant active) gets an alert,
// tuned by the most specific heartbeat rule (devices, then tags, then sites,
// then all: grace, severity, off, auto-close); children of an OFFLINE gateway
// are skipped. A device ONLINE again has it resolved (auto-close) or marked
// CLEARED once for a person to close.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { inScope, type DeviceFacts } from "./evaluate.ts";
import type { AlertAction, Transition } from "./lifecycle.ts";
import { heartbeatCandidates, listHeartbeatRules, type HeartbeatRuleRow } from "./windows-store.ts";
import { inMaintenance, type WindowSpec } from "./windows.ts";

export interface HeartbeatDeps {
  db: Db;
  clock: Clock;
  /** The tenant's maintenance windows (the engine's cached ones). */
  windowsOf: (tenantId: string) => Promise<WindowSpec[]>;
  /** Make one alert change, in order with the engine's other writes to that alert; resolves once committed. */
  write: (action: AlertAction) => Promise<Transition[]>;
}

/** Raise NO_HEARTBEAT for offline devices and close it for recovered ones. */
export async function checkHeartbeats(deps: HeartbeatDeps): Promise<Transition[]> {
  const now = deps.clock.now();
  const { offline, recovered } = await withSystem(deps.db, (tx) => heartbeatCandidates(tx));
  const rulesByTenant = new Map<string, HeartbeatRuleRow[]>();
  const out: Transition[] = [];
  for (const d of offline) {
    // A child of a gateway that is down is not reported on its own.
    if (d.parent_device_id && d.parent_connectivity === "OFFLINE") continue;
    let rules = rulesByTenant.get(d.tenant_id);
    if (!rules) rulesByTenant.set(d.tenant_id, (rules = await withSystem(deps.db, (tx) => listHeartbeatRules(tx, d.tenant_id))));
    const facts: DeviceFacts = { id: d.device_id, siteId: d.site_id, tags: d.tags ?? {} };
    const rule = heartbeatRuleFor(rules, facts);
    if (rule && !rule.enabled) continue;
    if (now.getTime() - d.connectivity_since.getTime() < (rule?.grace_seconds ?? 0) * 1000) continue;
    const windows = await deps.windowsOf(d.tenant_id);
    const silentFor = d.last_seen_at ? Math.round((now.getTime() - d.last_seen_at.getTime()) / 1000) : null;
    out.push(
      ...(await deps.write({
        fingerprint: `NO_HEARTBEAT:${d.device_id}`,
        subject: { tenantId: d.tenant_id, deviceId: d.device_id, ruleId: null, change: "raise" },
        raise: {
          tenantId: d.tenant_id,
          fingerprint: `NO_HEARTBEAT:${d.device_id}`,
          type: "NO_HEARTBEAT",
          ruleId: null,
          deviceId: d.device_id,
          siteId: d.site_id,
          severity: rule?.severity ?? "HIGH",
          summary: `${d.device_id} has not been heard from${silentFor !== null ? ` for ${silentFor} s` : ""} (heartbeat every ${d.interval} s)`,
          metricName: null,
          value: d.last_seen_at?.toISOString() ?? null,
          suppressed: inMaintenance(windows, facts, now.getTime()),
          at: now,
          reopenWindowSeconds: 0,
        },
      })),
    );
  }
  for (const d of recovered) {
    let rules = rulesByTenant.get(d.tenant_id);
    if (!rules) rulesByTenant.set(d.tenant_id, (rules = await withSystem(deps.db, (tx) => listHeartbeatRules(tx, d.tenant_id))));
    // The device's own rule decides, as when it was raised (not every rule of the tenant).
    const autoClose = heartbeatRuleFor(rules, { id: d.device_id, siteId: d.site_id, tags: d.tags ?? {} })?.auto_close ?? true;
    out.push(
      ...(await deps.write({
        fingerprint: `NO_HEARTBEAT:${d.device_id}`,
        subject: { tenantId: d.tenant_id, deviceId: d.device_id, ruleId: null, change: "resolve" },
        resolve: { tenantId: d.tenant_id, fingerprint: `NO_HEARTBEAT:${d.device_id}`, value: d.last_seen_at?.toISOString() ?? null, autoClose, at: now, reason: "heartbeats resumed" },
      })),
    );
  }
  return out;
}

/** The most specific heartbeat rule covering a device (devices, then tags, then sites, then all), if any. */
function heartbeatRuleFor(rules: readonly HeartbeatRuleRow[], d: DeviceFacts): HeartbeatRuleRow | undefined {
  return rules.filter((r) => inScope(r.scope, d)).sort((a, b) => specificity(b) - specificity(a))[0];
}

function specificity(r: HeartbeatRuleRow): number {
  return r.scope.devices?.length ? 3 : r.scope.tags && Object.keys(r.scope.tags).length ? 2 : r.scope.sites?.length ? 1 : 0;
}
