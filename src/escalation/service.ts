// Escalation policies: up to five levels, each paging its targets (people,
// schedules — whoever is on call then —, channels, webhooks) a delay after
// the alert opened (level 1) or after the previous level; the whole policy
// may run again N times while nobody acknowledges. A policy is chosen when an
// alert opens: its rule's (or, for NO_HEARTBEAT, the most specific heartbeat
// rule's), else the tenant default. startEscalation runs inside the alert's
// transaction (an AlertBus hook); the worker does the rest.

import { recordAuditIn } from "../audit/service.ts";
import { inScope, type Scope } from "../alerts/evaluate.ts";
import type { AlertSubject } from "../alerts/bus.ts";
import type { Transition } from "../alerts/lifecycle.ts";
import type { AlertRow } from "../alerts/store.ts";
import type { Db, Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import { txMemo } from "../db/tx-memo.ts";
import type { Clock } from "../lib/clock.ts";
import { settleAll } from "../lib/settle.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { conflict, invalid, notFound } from "../lib/errors.ts";
import type { SecretBox } from "../lib/secrets.ts";
import { requireText } from "../lib/validate.ts";
import { checkPersonal, displayUrl } from "../notify/personal.ts";
import { findMembers, userNames } from "../oncall/store.ts";
import {
  channelOf,
  clearTenantDefault,
  deletePolicy,
  deviceFacts,
  findPolicy,
  findTenantDefault,
  heartbeatPolicies,
  insertEscalationEvent,
  insertPolicy,
  isUuid,
  lastEscalationEvent,
  listPolicies,
  postponeEscalation,
  replaceLevels,
  policyForRule,
  rulesUsingPolicy,
  scheduleName,
  setEscalation,
  updatePolicy,
  type LevelRow,
  type PolicyFields,
  type PolicyWithLevels,
  type StoredTarget,
} from "./store.ts";

export interface EscalationDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
}

export const MAX_LEVELS = 5;

/** A target as the API shows it: names resolved, webhook URLs as scheme and host only. */
export type ShownTarget =
  | { type: "user"; user_id: string; username: string | null }
  | { type: "schedule"; schedule_id: string; name: string | null }
  | { type: "channel"; channel_id: string; name: string | null }
  | { type: "webhook"; id: string; url: string };

export interface Policy {
  id: string;
  name: string;
  repeat_count: number;
  repeat_delay_minutes: number;
  is_tenant_default: boolean;
  levels: Array<{ level: number; delay_minutes: number; targets: ShownTarget[] }>;
  /** Alert and heartbeat rules that use it. */
  used_by: string[];
  created_at: Date;
  updated_at: Date;
}

export interface PolicyInput {
  name?: unknown;
  repeat_count?: unknown;
  repeat_delay_minutes?: unknown;
  is_tenant_default?: unknown;
  levels?: unknown;
}

function wholeNumber(field: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw invalid(field, `${field}: a whole number from ${min} to ${max}`);
  return v;
}

/** Levels from input, checked against the tenant (people are members, schedules and channels exist). */
async function checkLevels(tx: Sql, deps: EscalationDeps, tenantId: string, input: unknown, kept: StoredTarget[]): Promise<LevelRow[]> {
  if (!Array.isArray(input) || input.length === 0 || input.length > MAX_LEVELS) throw invalid("levels", `levels: 1 to ${MAX_LEVELS} levels`);
  const levels: LevelRow[] = [];
  for (const [i, raw] of input.entries()) {
    const f = `levels.${i}`;
    if (!raw || typeof raw !== "object") throw invalid(f, `${f}: {delay_minutes, targets}`);
    const l = raw as Record<string, unknown>;
    const delay = wholeNumber(`${f}.delay_minutes`, l.delay_minutes, 0, 1440, i === 0 ? 0 : 15);
    if (!Array.isArray(l.targets) || l.targets.length === 0 || l.targets.length > 10) throw invalid(`${f}.targets`, `${f}.targets: 1 to 10 targets`);
    const targets: StoredTarget[] = [];
    for (const [j, rt] of l.targets.entries()) {
      const tf = `${f}.targets.${j}`;
      const t = (rt && typeof rt === "object" ? rt : {}) as Record<string, unknown>;
      if (t.type === "user") {
        if (!isUuid(t.user_id) || !(await findMembers(tx, tenantId, [t.user_id])).length) throw invalid(`${tf}.user_id`, `${tf}.user_id: an active member of this tenant`);
        targets.push({ type: "user", user_id: t.user_id });
      } else if (t.type === "schedule") {
        if (!isUuid(t.schedule_id) || !(await scheduleName(tx, tenantId, t.schedule_id))) throw invalid(`${tf}.schedule_id`, `${tf}.schedule_id: an on-call schedule of this tenant`);
        targets.push({ type: "schedule", schedule_id: t.schedule_id });
      } else if (t.type === "channel") {
        if (!isUuid(t.channel_id) || !(await channelOf(tx, tenantId, t.channel_id))) throw invalid(`${tf}.channel_id`, `${tf}.channel_id: a notification channel of this tenant`);
        targets.push({ type: "channel", channel_id: t.channel_id });
      } else if (t.type === "webhook") {
        // Left without a url, a webhook target keeps its stored URL and secret (the API never shows them).
        const old = t.url === undefined && isUuid(t.id) ? kept.find((k): k is Extract<StoredTarget, { type: "webhook" }> => k.type === "webhook" && k.id === t.id) : undefined;
        if (old) {
          targets.push(old);
          continue;
        }
        if (typeof t.url !== "string") throw invalid(`${tf}.url`, `${tf}.url: the webhook URL (or the id of a webhook target of this policy to keep it)`);
        const secret = typeof t.secret === "string" && t.secret !== "" ? t.secret : "whsec_" + Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64");
        try {
          checkPersonal("webhook", "", { url: t.url, secret });
        } catch (err) {
          const e = err as { field?: string; message: string };
          throw invalid(`${tf}.${e.field ?? "url"}`, `${tf}.${e.message}`);
        }
        targets.push({ type: "webhook", id: crypto.randomUUID(), display: displayUrl(t.url), sealed: await deps.secrets.encrypt(JSON.stringify({ url: t.url, secret })) });
      } else throw invalid(`${tf}.type`, `${tf}.type: user, schedule, channel or webhook`);
    }
    levels.push({ position: i + 1, delay_minutes: delay, targets });
  }
  return levels;
}

async function shown(tx: Sql, p: PolicyWithLevels): Promise<Policy> {
  const targets = p.levels.flatMap((l) => l.targets);
  const users = await userNames(tx, targets.flatMap((t) => (t.type === "user" ? [t.user_id] : [])));
  const names = new Map<string, string | null>();
  for (const t of targets) {
    if (t.type === "schedule") names.set(t.schedule_id, (await scheduleName(tx, p.tenant_id, t.schedule_id)) ?? null);
    if (t.type === "channel") names.set(t.channel_id, (await channelOf(tx, p.tenant_id, t.channel_id))?.name ?? null);
  }
  const show = (t: StoredTarget): ShownTarget =>
    t.type === "user"
      ? { type: "user", user_id: t.user_id, username: users.get(t.user_id)?.username ?? null }
      : t.type === "schedule"
        ? { type: "schedule", schedule_id: t.schedule_id, name: names.get(t.schedule_id) ?? null }
        : t.type === "channel"
          ? { type: "channel", channel_id: t.channel_id, name: names.get(t.channel_id) ?? null }
          : { type: "webhook", id: t.id, url: t.display };
  return {
    id: p.id,
    name: p.name,
    repeat_count: p.repeat_count,
    repeat_delay_minutes: p.repeat_delay_minutes,
    is_tenant_default: p.is_tenant_default,
    levels: p.levels.map((l) => ({ level: l.position, delay_minutes: l.delay_minutes, targets: l.targets.map(show) })),
    used_by: await rulesUsingPolicy(tx, p.tenant_id, p.id),
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

export async function listEscalationPolicies(deps: EscalationDeps, ctx: Ctx): Promise<Policy[]> {
  requirePermission(ctx, "read", "see escalation policies");
  return withTenant(deps.db, ctx, async (tx) => Promise.all((await listPolicies(tx, ctx.tenantId)).map((p) => shown(tx, p))));
}

export async function getEscalationPolicy(deps: EscalationDeps, ctx: Ctx, id: string): Promise<Policy> {
  requirePermission(ctx, "read", "see escalation policies");
  return withTenant(deps.db, ctx, async (tx) => {
    const p = await findPolicy(tx, ctx.tenantId, id);
    if (!p) throw notFound(`escalation policy ${id}`);
    return shown(tx, p);
  });
}

/** Create (id undefined) or replace a policy with its levels; one policy at most is the tenant default. */
export async function saveEscalationPolicy(deps: EscalationDeps, ctx: Ctx, id: string | undefined, input: PolicyInput): Promise<Policy> {
  requirePermission(ctx, "admin", "change escalation policies");
  const now = deps.clock.now();
  const fields: PolicyFields = {
    name: requireText("name", input.name),
    repeat_count: wholeNumber("repeat_count", input.repeat_count, 0, 10, 0),
    repeat_delay_minutes: wholeNumber("repeat_delay_minutes", input.repeat_delay_minutes, 0, 1440, 15),
    is_tenant_default: input.is_tenant_default === true,
  };
  if (input.is_tenant_default !== undefined && typeof input.is_tenant_default !== "boolean") throw invalid("is_tenant_default", "is_tenant_default: true or false");
  return withTenant(deps.db, ctx, async (tx) => {
    const current = id ? await findPolicy(tx, ctx.tenantId, id) : undefined;
    if (id && !current) throw notFound(`escalation policy ${id}`);
    const levels = await checkLevels(tx, deps, ctx.tenantId, input.levels, current?.levels.flatMap((l) => l.targets) ?? []);
    if (fields.is_tenant_default) await clearTenantDefault(tx, ctx.tenantId, current?.id ?? null);
    const row = current ? await updatePolicy(tx, current.id, fields, now).catch(nameTaken(fields.name)) : await insertPolicy(tx, ctx.tenantId, fields, now);
    if (!row) throw conflict(`an escalation policy named ${fields.name} exists`, "name");
    await replaceLevels(tx, ctx.tenantId, row.id, levels);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: current ? "escalation.policy_updated" : "escalation.policy_created", target: { kind: "escalation_policy", id: row.id }, ip: ctx.ip, requestId: ctx.requestId, details: { name: row.name, levels: levels.length } });
    return shown(tx, { ...row, levels });
  });
}

const nameTaken = (name: string) => (err: unknown) => {
  if (/escalation_policies_name_key|duplicate key/.test(String((err as Error)?.message ?? err))) throw conflict(`an escalation policy named ${name} exists`, "name");
  throw err;
};

/** Delete a policy no rule uses; alerts escalating under it stop at their next step. */
export async function deleteEscalationPolicy(deps: EscalationDeps, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "delete escalation policies");
  await withTenant(deps.db, ctx, async (tx) => {
    const p = await findPolicy(tx, ctx.tenantId, id);
    if (!p) throw notFound(`escalation policy ${id}`);
    const rules = await rulesUsingPolicy(tx, ctx.tenantId, p.id);
    if (rules.length) throw conflict(`escalation policy ${p.name} is used by ${rules.join(", ")}; change those rules first`);
    await deletePolicy(tx, p.id);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "escalation.policy_deleted", target: { kind: "escalation_policy", id: p.id }, ip: ctx.ip, requestId: ctx.requestId, details: { name: p.name } });
  });
}

/** Heartbeat rules by specificity, as the engine picks them: devices, then tags, then sites, then all. */
const specificity = (s: Scope) => (s.devices?.length ? 3 : s.tags && Object.keys(s.tags).length ? 2 : s.sites?.length ? 1 : 0);

/** The policy for an alert (inside a transaction): its rule's, else the tenant default; a policy since deleted falls back too. */
const rulePolicy = (tx: Sql, tenantId: string, ruleId: string) => txMemo(tx, `escalation.policy:${tenantId}:${ruleId}`, () => policyForRule(tx, tenantId, ruleId));

/** The read startEscalation makes for a threshold alert that may open, started early (a TransitionPrefetch). */
export function prefetchPolicy(tx: Sql, s: AlertSubject): void {
  if (s.change === "raise" && s.ruleId) void rulePolicy(tx, s.tenantId, s.ruleId);
}

export async function policyFor(tx: Sql, a: Pick<AlertRow, "tenant_id" | "alert_type" | "rule_id" | "device_id">): Promise<PolicyWithLevels | undefined> {
  let id: string | null = null;
  if (a.alert_type === "THRESHOLD" && a.rule_id) return rulePolicy(tx, a.tenant_id, a.rule_id);
  if (a.alert_type === "NO_HEARTBEAT") {
    const d = await deviceFacts(tx, a.tenant_id, a.device_id);
    const facts = { id: a.device_id, siteId: d?.site_id ?? null, tags: d?.tags ?? {} };
    const rule = (await heartbeatPolicies(tx, a.tenant_id)).filter((r) => inScope(r.scope, facts as never)).sort((x, y) => specificity(y.scope) - specificity(x.scope))[0];
    id = rule?.escalation_policy_id ?? null;
  }
  return (id ? await findPolicy(tx, a.tenant_id, id) : undefined) ?? (await findTenantDefault(tx, a.tenant_id));
}

/**
 * The AlertBus hook: an alert that opens (or re-opens) starts its policy at
 * level 1, due the level's delay after now. Alerts raised in maintenance are
 * not escalated. Acknowledging and closing stop it in the lifecycle itself.
 */
export async function startEscalation(tx: Sql, t: Transition): Promise<void> {
  if (t.kind === "unsilenced") return resumeEscalation(tx, t);
  if (t.kind !== "triggered" && t.kind !== "reopened") return;
  const a = t.alert;
  if (a.suppressed) return;
  const policy = await policyFor(tx, a);
  if (!policy?.levels.length) return;
  const first = policy.levels[0]!;
  const due = new Date(t.at.getTime() + first.delay_minutes * 60_000);
  // Both go out together (pipelined).
  const [updated] = await settleAll([
    setEscalation(tx, a.id, { escalation_policy_id: policy.id, escalation_level: 0, escalation_repeats: 0, next_escalation_at: due }),
    insertEscalationEvent(tx, {
      tenantId: a.tenant_id,
      alertId: a.id,
      time: t.at,
      kind: "ESCALATION_STARTED",
      details: { policy_id: policy.id, policy: policy.name, next_level: 1, due_at: due.toISOString(), message: `escalation policy ${policy.name}: level 1 ${first.delay_minutes ? `in ${first.delay_minutes} min` : "now"}` },
    }),
  ]);
  // Listeners after commit see the alert as it now is.
  Object.assign(a, { escalation_policy_id: policy.id, escalation_level: updated.escalation_level, next_escalation_at: updated.next_escalation_at });
}

/** A silence lifted early: a level that was waiting for it to end is due now. */
async function resumeEscalation(tx: Sql, t: Transition): Promise<void> {
  const a = t.alert;
  if (a.status !== "OPEN" || !a.next_escalation_at || a.next_escalation_at <= t.at) return;
  if ((await lastEscalationEvent(tx, a.id))?.until !== a.next_escalation_at.toISOString()) return;
  await postponeEscalation(tx, a.id, t.at);
  a.next_escalation_at = t.at;
}
