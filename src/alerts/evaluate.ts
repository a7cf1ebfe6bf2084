// The evaluator's pure core: does a value meet a threshold rule, has it held
// long enough (`for`), and has it cleared (with hysteresis, so a value
// hovering at the limit does not flap). No I/O, no clock of its own.

export const OPERATORS = ["GT", "GTE", "LT", "LTE", "EQ", "NEQ"] as const;
export type Operator = (typeof OPERATORS)[number];
export const NUMERIC_OPERATORS: readonly Operator[] = ["GT", "GTE", "LT", "LTE"];

export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"] as const;
export type Severity = (typeof SEVERITIES)[number];
/** The seed's numeric severities: 1 is the most severe. */
export const SEVERITY_RANK: Record<Severity, number> = { CRITICAL: 1, HIGH: 2, MEDIUM: 3, LOW: 4, INFO: 5 };

export type Threshold = number | boolean | string;

export interface RuleSpec {
  operator: Operator;
  threshold: Threshold;
  clearThreshold: number | null;
  durationSeconds: number;
}

export interface RuleState {
  /** When the condition started holding without firing yet (ms), for `for` durations. */
  pendingSince: number | null;
  firing: boolean;
}

export type Action = "fire" | "clear" | null;

export interface Evaluation {
  state: RuleState;
  action: Action;
  /** Whether the state differs from before (so it must be saved). */
  changed: boolean;
}

/** Whether the value meets the condition; undefined when the rule does not apply to this kind of value. */
export function holds(rule: Pick<RuleSpec, "operator" | "threshold">, value: unknown): boolean | undefined {
  const t = rule.threshold;
  switch (rule.operator) {
    case "GT":
    case "GTE":
    case "LT":
    case "LTE":
      if (typeof value !== "number" || typeof t !== "number") return undefined;
      return rule.operator === "GT" ? value > t : rule.operator === "GTE" ? value >= t : rule.operator === "LT" ? value < t : value <= t;
    case "EQ":
    case "NEQ":
      if (typeof value !== typeof t) return undefined;
      return rule.operator === "EQ" ? value === t : value !== t;
  }
}

/** While firing: has the value come back far enough (the clear threshold when set, else the condition)? */
export function cleared(rule: RuleSpec, value: unknown): boolean | undefined {
  if (rule.clearThreshold !== null && typeof value === "number") {
    if (rule.operator === "GT" || rule.operator === "GTE") return value <= rule.clearThreshold;
    if (rule.operator === "LT" || rule.operator === "LTE") return value >= rule.clearThreshold;
  }
  const h = holds(rule, value);
  return h === undefined ? undefined : !h;
}

/** One new value at time `at` (ms). */
export function evaluate(rule: RuleSpec, state: RuleState, value: unknown, at: number): Evaluation {
  if (state.firing) {
    const c = cleared(rule, value);
    if (c === undefined || !c) return { state, action: null, changed: false };
    return { state: { pendingSince: null, firing: false }, action: "clear", changed: true };
  }
  const h = holds(rule, value);
  if (h === undefined) return { state, action: null, changed: false };
  if (!h) return state.pendingSince === null ? { state, action: null, changed: false } : { state: { pendingSince: null, firing: false }, action: null, changed: true };
  const since = state.pendingSince ?? at;
  if (at - since >= rule.durationSeconds * 1000) return { state: { pendingSince: null, firing: true }, action: "fire", changed: true };
  return { state: { pendingSince: since, firing: false }, action: null, changed: state.pendingSince === null };
}

/** When a pending condition fires if nothing contradicts it (ms), or null. */
export function dueAt(rule: RuleSpec, state: RuleState): number | null {
  return !state.firing && state.pendingSince !== null ? state.pendingSince + rule.durationSeconds * 1000 : null;
}

/** The `for` deadline passed with the condition still holding (no newer value said otherwise). */
export function checkDeadline(rule: RuleSpec, state: RuleState, now: number): Evaluation {
  const due = dueAt(rule, state);
  if (due === null || now < due) return { state, action: null, changed: false };
  return { state: { pendingSince: null, firing: true }, action: "fire", changed: true };
}

/** Which devices a rule, heartbeat rule or maintenance window covers. */
export interface Scope {
  sites?: string[];
  tags?: Record<string, string>;
  devices?: string[];
}

export interface DeviceFacts {
  id: string;
  siteId: string;
  tags: Record<string, string>;
}

/** An empty scope covers every device; otherwise every given criterion must match. */
export function inScope(scope: Scope, d: DeviceFacts): boolean {
  if (scope.devices?.length && !scope.devices.includes(d.id)) return false;
  if (scope.sites?.length && !scope.sites.includes(d.siteId)) return false;
  if (scope.tags) for (const [k, v] of Object.entries(scope.tags)) if (d.tags[k] !== v) return false;
  return true;
}
