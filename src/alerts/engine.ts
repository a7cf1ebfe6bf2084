// The alert engine: threshold rules evaluated in-process on every message as
// ingest admits it (DESIGN.md §1: before the write, so an alert does not
// wait for the batch holding its message), against an in-memory index of each
// tenant's rules keyed by metric (dropped on every node when rules change, via
// NOTIFY), with the (rule, device) state kept in memory and written through to
// rule_state so that a restart resumes exactly. The leader also fires `for`
// deadlines that passed without a new message, and raises and clears
// NO_HEARTBEAT.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Registry } from "../ingest/registry.ts";
import type { Accepted } from "../ingest/writer.ts";
import { applyChanges, type ApplyChanges, type StateChange } from "./apply.ts";
import { publishCommitted, type AlertBus } from "./bus.ts";
import { checkDeadline, evaluate, holds, inScope, type DeviceFacts, type RuleState } from "./evaluate.ts";
import { checkHeartbeats } from "./heartbeats.ts";
import type { AlertAction, Transition } from "./lifecycle.ts";
import { buildIndex, getState, setState, unchangedBy, type TenantIndex } from "./rule-index.ts";
import { retryOnLostConnection } from "./transact-retry.ts";
import { createUnsettled } from "./unsettled.ts";
import { createWriteOrder } from "./write-order.ts";
import { duePending, lastJudgedValue, listNormalizations, listRules, loadStates, type RuleRow } from "./store.ts";
import { listWindows } from "./windows-store.ts";
import { inMaintenance } from "./windows.ts";

export const RULES_CHANNEL = "pulse_rules";

export interface Engine {
  /**
   * Judge a message ingest has admitted (never throws). One that can change
   * nothing is settled at once; the others admitted together (until the
   * admitting code yields) are judged together, right after.
   */
  accept(m: Accepted): void;
  /** Wait until everything handed to accept so far is evaluated (tests, shutdown). */
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
  /**
   * Makes the alert transactions (default: applyChanges on `db`, here; on
   * Postgres the app hands them to the alert writer thread). At most
   * MAX_WRITING at a time.
   */
  applyChanges?: ApplyChanges;
}

const stateKey = (ruleId: string, deviceId: string) => `${ruleId}\u0000${deviceId}`;
const MAX_COALESCED = 20_000;
/** Alert transactions in flight at once (the pool's other users: ingest, the API, the outbox). */
export const MAX_WRITING = 3;
const IDLE: RuleState = { pendingSince: null, firing: false };

export function createEngine(deps: EngineDeps): Engine {
  const { db, log } = deps;
  const tenants = new Map<string, Promise<TenantIndex>>();
  // The same indexes once loaded, for accept() to read without waiting.
  const ready = new Map<string, TenantIndex>();
  const forget = (tenantId: string) => {
    tenants.delete(tenantId);
    ready.delete(tenantId);
  };
  let chain: Promise<void> = Promise.resolve();
  // Most messages cannot change anything (no state for the device, values
  // inside every rule's bounds): accept() tells so at once and they never wait.
  // The others wait here and are judged together by the next evaluation, which
  // starts as soon as the code admitting them yields (a microtask, not the end
  // of the event loop's turn: under load a turn of MQTT reads lasts
  // milliseconds, and a crossing's alert would wait for all of it). When alert
  // writes fall behind, what waits meanwhile is judged together, so the engine
  // catches up with fewer, larger transactions instead of a queue of them that
  // grows as long as the load lasts. All that waits is judged, in slices of at
  // most MAX_COALESCED (the most one evaluation, and so one tenant's
  // transaction, takes): judging only one slice a turn fell behind when turns
  // grew long (PGlite writes on this thread), and the waiting list then grew by
  // millions of messages.
  let waiting: Accepted[] = [];
  let scheduled = false;
  // Devices with messages waiting or being judged: a later message of such a
  // device is judged after them, never told "unchanged" from a state they are
  // about to change.
  const unsettled = createUnsettled();
  const evaluateWaiting = async () => {
    const all = waiting;
    waiting = [];
    scheduled = false;
    for (let i = 0; i < all.length; i += MAX_COALESCED) {
      const slice = all.length <= MAX_COALESCED ? all : all.slice(i, i + MAX_COALESCED);
      try {
        await evaluateBatch(slice);
      } catch (err) {
        log.error("alerts: evaluation failed", { error: err });
      } finally {
        unsettled.settle(slice);
      }
    }
  };
  const schedule = () => {
    scheduled = true;
    chain = chain.then(evaluateWaiting).catch((err) => log.error("alerts: evaluation failed", { error: err }));
  };
  // A plain number, read at scrape time: accept() adds to it for every message.
  let evaluations = 0;
  deps.metrics.collect("pulse_alert_evaluations_total", "Rule evaluations of incoming values.", () => evaluations, "counter");
  const transitionsCount = deps.metrics.counter("pulse_alert_transitions_total", "Alert changes by kind.");
  const evalSeconds = deps.metrics.histogram("pulse_alert_evaluation_seconds", "Time to evaluate admitted messages (those of one turn, or those that waited meanwhile) and hand their alert changes to be written.");
  const writeSeconds = deps.metrics.histogram("pulse_alert_write_seconds", "Time an alert transaction takes, from its start to its commit.");
  const writes = createWriteOrder(MAX_WRITING);
  // The transaction itself: here, or on the alert writer thread; run again if its connection went away.
  const transact = retryOnLostConnection(deps.applyChanges ?? ((states, actions) => applyChanges(db, deps.bus, states, actions)), deps);

  const load = async (tenantId: string): Promise<TenantIndex> => {
    // States are read back only once the writes in flight have committed: a
    // reload (rules changed, or a write failed) must not see the database
    // behind what was already judged.
    await writes.drained();
    const [rules, states, catalog, windows] = await withSystem(db, async (tx) => [
      await listRules(tx, { tenantId, enabledOnly: true }),
      await loadStates(tx, tenantId),
      await listNormalizations(tx, tenantId),
      await listWindows(tx, { tenantId, activeAfter: deps.clock.now() }),
    ] as const);
    return buildIndex(rules, states, catalog, windows);
  };
  const indexOf = (tenantId: string) => {
    let p = tenants.get(tenantId);
    if (!p) {
      p = load(tenantId);
      tenants.set(tenantId, p);
      const loading = p;
      loading.then(
        (idx) => tenants.get(tenantId) === loading && ready.set(tenantId, idx),
        () => tenants.get(tenantId) === loading && forget(tenantId),
      );
    }
    return p;
  };

  /** Apply raises/resolves and state writes for one tenant in one transaction (apply.ts), then publish. */
  const apply = async (changes: Array<{ key: string; row: StateChange }>, actions: AlertAction[]) => {
    if (!changes.length && !actions.length) return [];
    const started = performance.now();
    const transitions = await transact(changes.map((c) => c.row), actions);
    writeSeconds.observe((performance.now() - started) / 1000);
    for (const t of transitions) transitionsCount.inc({ kind: t.kind });
    publishCommitted(deps.bus, transitions, (err) => log.error("alerts: listener failed", { error: err }));
    return transitions;
  };

  /**
   * Write alert changes in the background (see write-order.ts): changes to
   * one alert, and to one (rule, device) state, commit in the order they were
   * judged. Resolves once the write has its place in line; `written` once it committed.
   */
  const applyInOrder = (changes: Parameters<typeof apply>[0], actions: AlertAction[]): Promise<{ written: Promise<Transition[]> }> => {
    if (!changes.length && !actions.length) return Promise.resolve({ written: Promise.resolve([]) });
    const keys = [...changes.map((c) => fingerprintOf(c.row.rule_id, c.row.device_id)), ...actions.map((a) => a.fingerprint)];
    return writes.enqueue(keys, () => apply(changes, actions));
  };

  /** Write in order and wait for the commit (deadlines, heartbeats: the leader's jobs want the transitions). */
  const writeInOrder = async (changes: Parameters<typeof apply>[0], actions: AlertAction[]) => (await applyInOrder(changes, actions)).written;

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
      const changes = new Map<string, { key: string; row: StateChange }>();
      const actions: AlertAction[] = [];
      // Device time order, so a late message is judged where it belongs.
      msgs.sort((a, b) => a.env.time.getTime() - b.env.time.getTime());
      let evaluated = 0;
      for (const m of msgs) {
        const deviceId = m.env.deviceId;
        const at = m.env.time.getTime();
        // The device's site and tags are looked up only when needed: for a rule scoped by them, or for a change.
        let facts: DeviceFacts | undefined;
        const factsOf = async () => {
          if (!facts) {
            const d = (await deps.registry.get(tenantId, deviceId))?.device;
            if (d) facts = { id: deviceId, siteId: d.siteId, tags: d.tags };
          }
          return facts;
        };
        const deviceStates = idx.states.get(deviceId);
        metrics: for (const metric in m.env.metrics) {
          const mr = idx.byMetric.get(metric);
          if (!mr) continue;
          const raw = m.env.metrics[metric];
          let rules = mr.all;
          if (!deviceStates && typeof raw === "number" && raw < mr.minAbove && raw > mr.maxBelow) {
            // None of the plain rules holds, and none has a state to change: judged at once.
            evaluated += mr.plain;
            rules = mr.others;
          }
          for (const ir of rules) {
            const rule = ir.row;
            if (ir.needsFacts) {
              // A device unknown here (deleted since) is not judged.
              const f = await factsOf();
              if (!f) break metrics;
              if (!inScope(rule.scope, f)) continue;
            } else if (rule.scope.devices?.length && !rule.scope.devices.includes(deviceId)) continue;
            evaluated++;
            const norm = rule.normalized ? idx.normalize.get(metric) : undefined;
            const value = norm && typeof raw === "number" ? raw * norm[0] + norm[1] : raw;
            const before = deviceStates?.get(rule.id);
            // Idle and not met: evaluate() would change nothing (the common case, kept cheap).
            if (!before && !holds(ir.spec, value)) continue;
            const f = await factsOf();
            if (!f) break metrics;
            const ev = evaluate(ir.spec, before ?? IDLE, value, at);
            if (!ev.changed) continue;
            const key = stateKey(rule.id, deviceId);
            setState(idx.states, rule.id, deviceId, ev.state);
            changes.set(key, {
              key,
              row: {
                tenant_id: tenantId,
                rule_id: rule.id,
                device_id: deviceId,
                pending_since: ev.state.pendingSince === null ? null : new Date(ev.state.pendingSince),
                firing: ev.state.firing,
                last_value: value,
                last_at: m.env.time,
              },
            });
            const fingerprint = fingerprintOf(rule.id, f.id);
            if (ev.action === "fire")
              actions.push({
                fingerprint,
                subject: { tenantId, deviceId: f.id, ruleId: rule.id, change: "raise" },
                raise: thresholdAlert(rule, f, metric, value, m.env.time, inMaintenance(idx.windows, f, at)),
              });
            if (ev.action === "clear")
              actions.push({
                fingerprint,
                subject: { tenantId, deviceId: f.id, ruleId: rule.id, change: "resolve" },
                resolve: { tenantId, fingerprint, value, autoClose: rule.auto_close, at: m.env.time, reason: "the value returned to normal" },
              });
          }
        }
      }
      // Counted once per batch: a labelled counter's inc() costs more than judging a value.
      evaluations += evaluated;
      // Written in the background: the next messages are judged meanwhile
      // (their in-memory state is already up to date), and wait only for a
      // free slot, not for this transaction.
      const { written } = await applyInOrder([...changes.values()], actions);
      written.catch((err) => {
        // The in-memory state ran ahead of the database: reload it from there.
        forget(tenantId);
        log.error("alerts: writing alert changes failed", { tenant: tenantId, error: err });
      });
    }
    evalSeconds.observe((performance.now() - started) / 1000);
  };

  /** Fire `for` deadlines that passed without a new message (serialized with evaluateBatch). */
  const fireDeadlines = async (): Promise<Transition[]> => {
    // The pending states are read from the database, where one cleared in
    // memory may not be cleared yet: those found due are read again once the
    // writes in flight for them have committed (none can start meanwhile: this
    // runs in line with evaluation). Waiting for every write in flight instead
    // held up the judging of all messages behind one slow transaction.
    const now = deps.clock.now();
    let due = await withSystem(db, (tx) => duePending(tx, now));
    const keys = new Set(due.map((s) => fingerprintOf(s.rule_id, s.device_id)));
    if (writes.busy(keys)) {
      await writes.settledFor(keys);
      due = (await withSystem(db, (tx) => duePending(tx, now))).filter((s) => keys.has(fingerprintOf(s.rule_id, s.device_id)));
    }
    const out: Transition[] = [];
    for (const s of due) {
      const idx = await indexOf(s.tenant_id);
      const ir = idx.byId.get(s.rule_id);
      const d = (await deps.registry.get(s.tenant_id, s.device_id))?.device;
      if (!ir || !d) continue;
      const rule = ir.row;
      const key = stateKey(rule.id, s.device_id);
      const state = getState(idx.states, rule.id, s.device_id) ?? { pendingSince: s.pending_since?.getTime() ?? null, firing: s.firing };
      const ev = checkDeadline(ir.spec, state, now.getTime());
      if (ev.action !== "fire") continue;
      setState(idx.states, rule.id, s.device_id, ev.state);
      const facts: DeviceFacts = { id: s.device_id, siteId: d.siteId, tags: d.tags };
      const lastValue = (await withSystem(db, (tx) => lastJudgedValue(tx, rule.id, s.device_id))) ?? null;
      try {
        out.push(
          ...(await writeInOrder(
            [{ key, row: { tenant_id: s.tenant_id, rule_id: rule.id, device_id: s.device_id, pending_since: null, firing: true, last_value: lastValue, last_at: now } }],
            [
              {
                fingerprint: fingerprintOf(rule.id, s.device_id),
                subject: { tenantId: s.tenant_id, deviceId: s.device_id, ruleId: rule.id, change: "raise" },
                raise: thresholdAlert(rule, facts, rule.metric_name, lastValue, now, inMaintenance(idx.windows, facts, now.getTime())),
              },
            ],
          )),
        );
      } catch (err) {
        // As in evaluateBatch: the in-memory state ran ahead of the database.
        forget(s.tenant_id);
        throw err;
      }
    }
    return out;
  };

  return {
    accept(m) {
      const idx = ready.get(m.env.tenantId);
      if (idx && !unsettled.has(m.env.tenantId, m.env.deviceId)) {
        const n = unchangedBy(idx, m.env.deviceId, m.env.metrics);
        if (n >= 0) {
          evaluations += n;
          return;
        }
      }
      unsettled.add(m.env.tenantId, m.env.deviceId);
      waiting.push(m);
      if (!scheduled) schedule();
    },
    async idle() {
      // Until the evaluations and the writes they started are all done, including any begun meanwhile.
      for (;;) {
        const c = chain;
        await c;
        await writes.drained();
        if (c === chain && writes.size() === 0) return;
      }
    },
    invalidate(tenantId) {
      forget(tenantId);
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

    checkHeartbeats: () => checkHeartbeats({ db, clock: deps.clock, windowsOf: async (tenantId) => (await indexOf(tenantId)).windows, write: (action) => writeInOrder([], [action]) }),
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
