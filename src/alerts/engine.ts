// The alert engine: threshold rules evaluated in-process on every committed
// message, against an in-memory index of each tenant's rules keyed by metric
// (dropped on every node when rules change, via NOTIFY), with the (rule,
// device) state kept in memory and written through to rule_state so that a
// restart resumes exactly. The leader also fires `for` deadlines that passed
// without a new message, and raises and clears NO_HEARTBEAT.

import type { Db, Sql } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Registry } from "../ingest/registry.ts";
import type { Accepted } from "../ingest/writer.ts";
import { publishCommitted, publishInTx, type AlertBus } from "./bus.ts";
import { checkDeadline, evaluate, inScope, type DeviceFacts, type RuleState } from "./evaluate.ts";
import { raise, resolve, type Transition } from "./lifecycle.ts";
import { duePending, listRules, loadStates, saveStates, type RuleRow, type StateRow } from "./store.ts";
import { heartbeatCandidates, listHeartbeatRules, listWindows, type HeartbeatRuleRow } from "./windows-store.ts";
import { inMaintenance, type WindowSpec } from "./windows.ts";

export const RULES_CHANNEL = "pulse_rules";

interface TenantIndex {
  byMetric: Map<string, RuleRow[]>;
  states: Map<string, RuleState>;
  /** metric → [multiplier, offset] for normalized rules. */
  normalize: Map<string, [number, number]>;
  windows: WindowSpec[];
}

export interface Engine {
  /** Evaluate a committed batch (called by the writer; never throws). */
  onCommit(batch: readonly Accepted[]): void;
  /** Wait until everything handed to onCommit so far is evaluated (tests, shutdown). */
  idle(): Promise<void>;
  /** Fire `for` deadlines that passed (leader job). */
  checkDeadlines(): Promise<Transition[]>;
  /** Raise NO_HEARTBEAT for offline devices and close it for recovered ones (leader job, after the sweep). */
  checkHeartbeats(): Promise<Transition[]>;
  /** Drop a tenant's cached rules, states and windows (rules changed). */
  invalidate(tenantId: string): void;
}

export interface EngineDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  registry: Registry;
  bus: AlertBus;
}

const stateKey = (ruleId: string, deviceId: string) => `${ruleId}\u0000${deviceId}`;

export function createEngine(deps: EngineDeps): Engine {
  const { db, log } = deps;
  const tenants = new Map<string, Promise<TenantIndex>>();
  let chain: Promise<void> = Promise.resolve();
  const evaluations = deps.metrics.counter("pulse_alert_evaluations_total", "Rule evaluations of incoming values.");
  const transitionsCount = deps.metrics.counter("pulse_alert_transitions_total", "Alert changes by kind.");
  const evalSeconds = deps.metrics.histogram("pulse_alert_evaluation_seconds", "Time to evaluate a committed batch and write its alert changes.");

  const load = async (tenantId: string): Promise<TenantIndex> => {
    const [rules, states, catalog, windows] = await withSystem(db, async (tx) => [
      await listRules(tx, { tenantId, enabledOnly: true }),
      await loadStates(tx, tenantId),
      await tx.query<{ name: string; multiplier: number | null; offset: number | null }>('select name, multiplier, "offset" from metric_catalog where tenant_id = $1 and multiplier is not null', [tenantId]),
      await listWindows(tx, { tenantId, activeAfter: deps.clock.now() }),
    ] as const);
    const byMetric = new Map<string, RuleRow[]>();
    for (const r of rules) byMetric.set(r.metric_name, [...(byMetric.get(r.metric_name) ?? []), r]);
    return {
      byMetric,
      states: new Map(states.map((s) => [stateKey(s.rule_id, s.device_id), { pendingSince: s.pending_since?.getTime() ?? null, firing: s.firing }])),
      normalize: new Map(catalog.map((c) => [c.name, [c.multiplier!, c.offset ?? 0] as [number, number]])),
      windows: windows.map(toWindowSpec),
    };
  };
  const indexOf = (tenantId: string) => {
    let p = tenants.get(tenantId);
    if (!p) {
      p = load(tenantId);
      tenants.set(tenantId, p);
      p.catch(() => tenants.delete(tenantId));
    }
    return p;
  };

  /** Apply raises/resolves and state writes for one tenant in one transaction, then publish. */
  const apply = async (tenantId: string, changes: Array<{ key: string; row: StateRow & { last_value: unknown; last_at: Date } }>, actions: Array<(tx: Sql) => Promise<Transition | undefined>>) => {
    if (!changes.length && !actions.length) return [];
    const transitions = await withSystem(db, async (tx) => {
      await saveStates(tx, changes.map((c) => c.row));
      const out: Transition[] = [];
      for (const act of actions) {
        const t = await act(tx);
        if (t) {
          await publishInTx(deps.bus, tx, t);
          out.push(t);
        }
      }
      return out;
    });
    for (const t of transitions) transitionsCount.inc({ kind: t.kind });
    publishCommitted(deps.bus, transitions, (err) => log.error("alerts: listener failed", { error: err }));
    void tenantId;
    return transitions;
  };

  const evaluateBatch = async (batch: readonly Accepted[]) => {
    const started = performance.now();
    const byTenant = new Map<string, Accepted[]>();
    for (const m of batch) {
      if (Object.keys(m.env.metrics).length === 0) continue;
      const list = byTenant.get(m.env.tenantId);
      if (list) list.push(m);
      else byTenant.set(m.env.tenantId, [m]);
    }
    for (const [tenantId, msgs] of byTenant) {
      const idx = await indexOf(tenantId);
      if (idx.byMetric.size === 0) continue;
      const changes = new Map<string, { key: string; row: StateRow & { last_value: unknown; last_at: Date } }>();
      const actions: Array<(tx: Sql) => Promise<Transition | undefined>> = [];
      // Device time order, so a late message is judged where it belongs.
      msgs.sort((a, b) => a.env.time.getTime() - b.env.time.getTime());
      for (const m of msgs) {
        let facts: DeviceFacts | undefined;
        for (const [metric, raw] of Object.entries(m.env.metrics)) {
          const rules = idx.byMetric.get(metric);
          if (!rules) continue;
          if (!facts) {
            const d = (await deps.registry.get(tenantId, m.env.deviceId))?.device;
            if (!d) break;
            facts = { id: m.env.deviceId, siteId: d.siteId, tags: d.tags };
          }
          for (const rule of rules) {
            if (!inScope(rule.scope, facts)) continue;
            evaluations.inc();
            const norm = rule.normalized ? idx.normalize.get(metric) : undefined;
            const value = norm && typeof raw === "number" ? raw * norm[0] + norm[1] : raw;
            const key = stateKey(rule.id, m.env.deviceId);
            const before = idx.states.get(key) ?? { pendingSince: null, firing: false };
            const ev = evaluate({ operator: rule.operator, threshold: rule.threshold, clearThreshold: rule.clear_threshold, durationSeconds: rule.duration_seconds }, before, value, m.env.time.getTime());
            if (!ev.changed) continue;
            idx.states.set(key, ev.state);
            changes.set(key, { key, row: { tenant_id: tenantId, rule_id: rule.id, device_id: m.env.deviceId, pending_since: ev.state.pendingSince === null ? null : new Date(ev.state.pendingSince), firing: ev.state.firing, last_value: value, last_at: m.env.time } });
            const f = facts;
            if (ev.action === "fire") actions.push((tx) => raise(tx, thresholdAlert(rule, f, metric, value, m.env.time, inMaintenance(idx.windows, f, m.env.time.getTime()))));
            if (ev.action === "clear") actions.push((tx) => resolve(tx, { tenantId, fingerprint: fingerprintOf(rule.id, f.id), value, autoClose: rule.auto_close, at: m.env.time, reason: "the value returned to normal" }));
          }
        }
      }
      try {
        await apply(tenantId, [...changes.values()], actions);
      } catch (err) {
        // The in-memory state ran ahead of the database: reload it from there.
        tenants.delete(tenantId);
        throw err;
      }
    }
    evalSeconds.observe((performance.now() - started) / 1000);
  };

  /** Fire `for` deadlines that passed without a new message (serialized with evaluateBatch). */
  const fireDeadlines = async (): Promise<Transition[]> => {
    const now = deps.clock.now();
    const due = await withSystem(db, (tx) => duePending(tx, now));
    const out: Transition[] = [];
    for (const s of due) {
      const idx = await indexOf(s.tenant_id);
      const rule = [...idx.byMetric.values()].flat().find((r) => r.id === s.rule_id);
      const d = (await deps.registry.get(s.tenant_id, s.device_id))?.device;
      if (!rule || !d) continue;
      const key = stateKey(rule.id, s.device_id);
      const state = idx.states.get(key) ?? { pendingSince: s.pending_since?.getTime() ?? null, firing: s.firing };
      const ev = checkDeadline({ operator: rule.operator, threshold: rule.threshold, clearThreshold: rule.clear_threshold, durationSeconds: rule.duration_seconds }, state, now.getTime());
      if (ev.action !== "fire") continue;
      idx.states.set(key, ev.state);
      const facts: DeviceFacts = { id: s.device_id, siteId: d.siteId, tags: d.tags };
      const [last] = await withSystem(db, (tx) => tx.query<{ last_value: unknown }>("select last_value from rule_state where rule_id = $1 and device_id = $2", [rule.id, s.device_id]));
      try {
        out.push(
          ...(await apply(
            s.tenant_id,
            [{ key, row: { tenant_id: s.tenant_id, rule_id: rule.id, device_id: s.device_id, pending_since: null, firing: true, last_value: last?.last_value ?? null, last_at: now } }],
            [(tx) => raise(tx, thresholdAlert(rule, facts, rule.metric_name, last?.last_value ?? null, now, inMaintenance(idx.windows, facts, now.getTime())))],
          )),
        );
      } catch (err) {
        // As in evaluateBatch: the in-memory state ran ahead of the database.
        tenants.delete(s.tenant_id);
        throw err;
      }
    }
    return out;
  };

  return {
    onCommit(batch) {
      chain = chain.then(() => evaluateBatch(batch)).catch((err) => log.error("alerts: evaluation failed", { error: err }));
    },
    idle: () => chain,
    invalidate(tenantId) {
      tenants.delete(tenantId);
    },

    checkDeadlines() {
      // In line with the evaluation of batches: a message judged at the same moment must not fire the same condition again.
      const run = chain.then(fireDeadlines);
      chain = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    },

    async checkHeartbeats() {
      const now = deps.clock.now();
      const { offline, recovered } = await withSystem(db, (tx) => heartbeatCandidates(tx));
      const rulesByTenant = new Map<string, HeartbeatRuleRow[]>();
      const out: Transition[] = [];
      for (const d of offline) {
        // A child of a gateway that is down is not reported on its own.
        if (d.parent_device_id && d.parent_connectivity === "OFFLINE") continue;
        let rules = rulesByTenant.get(d.tenant_id);
        if (!rules) rulesByTenant.set(d.tenant_id, (rules = await withSystem(db, (tx) => listHeartbeatRules(tx, d.tenant_id))));
        const facts: DeviceFacts = { id: d.device_id, siteId: d.site_id, tags: d.tags ?? {} };
        const rule = heartbeatRuleFor(rules, facts);
        if (rule && !rule.enabled) continue;
        if (now.getTime() - d.connectivity_since.getTime() < (rule?.grace_seconds ?? 0) * 1000) continue;
        const idx = await indexOf(d.tenant_id);
        const silentFor = d.last_seen_at ? Math.round((now.getTime() - d.last_seen_at.getTime()) / 1000) : null;
        out.push(
          ...(await apply(d.tenant_id, [], [
            (tx) =>
              raise(tx, {
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
                suppressed: inMaintenance(idx.windows, facts, now.getTime()),
                at: now,
                reopenWindowSeconds: 0,
              }),
          ])),
        );
      }
      for (const d of recovered) {
        let rules = rulesByTenant.get(d.tenant_id);
        if (!rules) rulesByTenant.set(d.tenant_id, (rules = await withSystem(db, (tx) => listHeartbeatRules(tx, d.tenant_id))));
        // The device's own rule decides, as when it was raised (not every rule of the tenant).
        const autoClose = heartbeatRuleFor(rules, { id: d.device_id, siteId: d.site_id, tags: d.tags ?? {} })?.auto_close ?? true;
        out.push(
          ...(await apply(d.tenant_id, [], [(tx) => resolve(tx, { tenantId: d.tenant_id, fingerprint: `NO_HEARTBEAT:${d.device_id}`, value: d.last_seen_at?.toISOString() ?? null, autoClose, at: now, reason: "heartbeats resumed" })])),
        );
      }
      return out;
    },
  };
}

export function fingerprintOf(ruleId: string, deviceId: string): string {
  return `THRESHOLD:${ruleId}:${deviceId}`;
}

function thresholdAlert(rule: RuleRow, d: DeviceFacts, metric: string, value: unknown, at: Date, suppressed: boolean) {
  const op = { GT: ">", GTE: "≥", LT: "<", LTE: "≤", EQ: "=", NEQ: "≠" }[rule.operator];
  return {
    tenantId: rule.tenant_id,
    fingerprint: fingerprintOf(rule.id, d.id),
    type: "THRESHOLD" as const,
    ruleId: rule.id,
    deviceId: d.id,
    siteId: d.siteId,
    severity: rule.severity,
    summary: `${rule.name}: ${metric} ${JSON.stringify(value)} ${op} ${JSON.stringify(rule.threshold)} on ${d.id}`,
    metricName: metric,
    value,
    suppressed,
    at,
    reopenWindowSeconds: rule.reopen_window_seconds,
  };
}

/** The most specific heartbeat rule covering a device (devices, then tags, then sites, then all), if any. */
function heartbeatRuleFor(rules: readonly HeartbeatRuleRow[], d: DeviceFacts): HeartbeatRuleRow | undefined {
  return rules.filter((r) => inScope(r.scope, d)).sort((a, b) => specificity(b) - specificity(a))[0];
}

function specificity(r: HeartbeatRuleRow): number {
  return r.scope.devices?.length ? 3 : r.scope.tags && Object.keys(r.scope.tags).length ? 2 : r.scope.sites?.length ? 1 : 0;
}

function toWindowSpec(w: { scope: WindowSpec["scope"]; starts_at: Date; ends_at: Date | null; recurrence: WindowSpec["recurrence"] }): WindowSpec {
  return { scope: w.scope, startsAt: w.starts_at.getTime(), endsAt: w.ends_at?.getTime() ?? null, recurrence: w.recurrence };
}
