// A tenant's alert rules as the engine's hot loop reads them: indexed by
// metric (with the bounds that let most values skip the plain threshold rules
// at once), by id, and the (rule, device) states that are not idle, the
// metric normalizations and the maintenance windows. Built from what the
// engine loads from the database; the states change in place as messages are judged.

import type { RuleSpec, RuleState } from "./evaluate.ts";
import type { RuleRow, StateRow } from "./store.ts";
import type { WindowSpec } from "./windows.ts";

/** A rule as the hot loop uses it: its spec built once, and whether its scope needs the device's site and tags. */
export interface IndexedRule {
  row: RuleRow;
  spec: RuleSpec;
  needsFacts: boolean;
}

/**
 * A metric's rules. The "plain" ones (every device, raw value, numeric
 * GT/GTE/LT/LTE) cannot hold for a number strictly between `maxBelow` and
 * `minAbove`: for a device with no state, such a value is judged against the
 * other rules only, whatever the number of plain ones (most rules, most values).
 */
export interface MetricRules {
  all: IndexedRule[];
  others: IndexedRule[];
  plain: number;
  minAbove: number;
  maxBelow: number;
}

export interface TenantIndex {
  byMetric: Map<string, MetricRules>;
  byId: Map<string, IndexedRule>;
  /**
   * device → rule → state, holding only states that are not idle (pending or
   * firing): a (rule, device) missing here is idle, so the common case (no
   * state, value not meeting the rule) is one lookup per message and one
   * comparison per rule.
   */
  states: Map<string, Map<string, RuleState>>;
  /** metric → [multiplier, offset] for normalized rules. */
  normalize: Map<string, [number, number]>;
  windows: WindowSpec[];
}

export function getState(states: TenantIndex["states"], ruleId: string, deviceId: string): RuleState | undefined {
  return states.get(deviceId)?.get(ruleId);
}

export function setState(states: TenantIndex["states"], ruleId: string, deviceId: string, s: RuleState): void {
  let m = states.get(deviceId);
  if (s.firing || s.pendingSince !== null) {
    if (!m) states.set(deviceId, (m = new Map()));
    m.set(ruleId, s);
  } else if (m) {
    m.delete(ruleId);
    if (m.size === 0) states.delete(deviceId);
  }
}

/**
 * The rule evaluations a device's values stand for when judging them could
 * change nothing, told without judging: the device has no state, and every
 * value that has rules is a number strictly between its metric's plain
 * bounds, with no other rules. -1 when they must be judged.
 */
export function unchangedBy(idx: TenantIndex, deviceId: string, metrics: Record<string, unknown>): number {
  if (idx.states.has(deviceId)) return -1;
  let evaluations = 0;
  for (const metric in metrics) {
    const mr = idx.byMetric.get(metric);
    if (!mr) continue;
    const raw = metrics[metric];
    if (mr.others.length || typeof raw !== "number" || !(raw < mr.minAbove && raw > mr.maxBelow)) return -1;
    evaluations += mr.plain;
  }
  return evaluations;
}

function indexRule(row: RuleRow): IndexedRule {
  return {
    row,
    spec: { operator: row.operator, threshold: row.threshold, clearThreshold: row.clear_threshold, durationSeconds: row.duration_seconds },
    needsFacts: !!(row.scope.sites?.length || (row.scope.tags && Object.keys(row.scope.tags).length)),
  };
}

/** The index of the rules, states, normalizations and windows loaded for a tenant. */
export function buildIndex(
  rules: readonly RuleRow[],
  states: readonly StateRow[],
  catalog: ReadonlyArray<[string, [number, number]]>,
  windows: ReadonlyArray<{ scope: WindowSpec["scope"]; starts_at: Date; ends_at: Date | null; recurrence: WindowSpec["recurrence"] }>,
): TenantIndex {
  const byMetric = new Map<string, MetricRules>();
  const byId = new Map<string, IndexedRule>();
  for (const r of rules) {
    const ir = indexRule(r);
    byId.set(r.id, ir);
    let mr = byMetric.get(r.metric_name);
    if (!mr) byMetric.set(r.metric_name, (mr = { all: [], others: [], plain: 0, minAbove: Infinity, maxBelow: -Infinity }));
    mr.all.push(ir);
    const t = r.threshold;
    const plain = !r.normalized && !ir.needsFacts && !r.scope.devices?.length && typeof t === "number";
    if (plain && (r.operator === "GT" || r.operator === "GTE")) mr.minAbove = Math.min(mr.minAbove, t);
    else if (plain && (r.operator === "LT" || r.operator === "LTE")) mr.maxBelow = Math.max(mr.maxBelow, t);
    else {
      mr.others.push(ir);
      continue;
    }
    mr.plain++;
  }
  const stateMap: TenantIndex["states"] = new Map();
  for (const s of states) setState(stateMap, s.rule_id, s.device_id, { pendingSince: s.pending_since?.getTime() ?? null, firing: s.firing });
  return {
    byMetric,
    byId,
    states: stateMap,
    normalize: new Map(catalog),
    windows: windows.map(toWindowSpec),
  };
}

function toWindowSpec(w: { scope: WindowSpec["scope"]; starts_at: Date; ends_at: Date | null; recurrence: WindowSpec["recurrence"] }): WindowSpec {
  return { scope: w.scope, startsAt: w.starts_at.getTime(), endsAt: w.ends_at?.getTime() ?? null, recurrence: w.recurrence };
}
