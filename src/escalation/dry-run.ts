// "Who would be paged now for an alert of severity S on device D?" — the
// routing rules that would notify at once, the escalation policy that would
// apply, and level by level (at the time each would fire) whom each target
// reaches and through which contact methods. Nothing is sent or written.

import { SEVERITIES, type Severity } from "../alerts/evaluate.ts";
import { withTenant } from "../db/scope.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { routeMatches } from "../notify/routing.ts";
import { listNotificationRoutes } from "../notify/service.ts";
import type { EscalationDeps } from "./service.ts";
import { policyFor } from "./service.ts";
import type { Sql } from "../db/db.ts";
import { deviceFacts, findPolicy, isUuid, ruleName, type LevelRow } from "./store.ts";
import { describeOutcome, resolveLevel, type TargetOutcome } from "./targets.ts";

export interface DryRunInput {
  severity?: unknown;
  device_id?: unknown;
  /** THRESHOLD (default) or NO_HEARTBEAT. */
  type?: unknown;
  /** For a THRESHOLD alert of this rule (its policy applies). */
  rule_id?: unknown;
}

export interface DryRun {
  at: Date;
  alert: { severity: Severity; device_id: string; site_id: string | null; type: "THRESHOLD" | "NO_HEARTBEAT"; rule_id: string | null };
  /** Routing rules that would notify their channel as soon as the alert opens. */
  routing: Array<{ route_id: string; route_name: string; channel_id: string; channel_type: string }>;
  policy: { id: string; name: string; repeat_count: number; repeat_delay_minutes: number } | null;
  levels: Array<{
    level: number;
    at: Date;
    delay_minutes: number;
    targets: Array<Pick<TargetOutcome, "target" | "who" | "onCallFor" | "skipped"> & { message: string; via: Array<{ kind: string; address: string } | { channel_id: string }> }>;
  }>;
}

/** What would happen for an alert like this, opened now (first run of the policy; repeats only noted). */
export async function dryRunPaging(deps: EscalationDeps, ctx: Ctx, input: DryRunInput): Promise<DryRun> {
  requirePermission(ctx, "read", "preview paging");
  if (!SEVERITIES.includes(input.severity as Severity)) throw invalid("severity", `severity: one of ${SEVERITIES.join(", ")}`);
  const severity = input.severity as Severity;
  if (typeof input.device_id !== "string" || input.device_id === "") throw invalid("device_id", "device_id: a device of this tenant");
  const deviceId = input.device_id;
  const type = input.type === undefined ? "THRESHOLD" : input.type;
  if (type !== "THRESHOLD" && type !== "NO_HEARTBEAT") throw invalid("type", "type: THRESHOLD or NO_HEARTBEAT");
  if (input.rule_id !== undefined && (type !== "THRESHOLD" || !isUuid(input.rule_id))) throw invalid("rule_id", "rule_id: an alert rule id (THRESHOLD alerts only)");
  const ruleId = (input.rule_id as string | undefined) ?? null;
  const now = deps.clock.now();
  const routes = await listNotificationRoutes(deps, ctx);
  return withTenant(deps.db, ctx, async (tx) => {
    const device = await deviceFacts(tx, ctx.tenantId, deviceId);
    if (!device) throw invalid("device_id", `device_id: no device ${deviceId} in this tenant`);
    if (ruleId && (await ruleName(tx, ruleId)) === null) throw invalid("rule_id", `rule_id: no alert rule ${ruleId} in this tenant`);
    const alertLike = { tenant_id: ctx.tenantId, alert_type: type as "THRESHOLD" | "NO_HEARTBEAT", rule_id: ruleId, device_id: deviceId, site_id: device.site_id, severity, suppressed: false, silenced_until: null };
    const routing = routes
      .filter((r) => r.channel_enabled && routeMatches(r, alertLike, "triggered", { tags: device.tags }, now.getTime()))
      .map((r) => ({ route_id: r.id, route_name: r.name, channel_id: r.channel_id, channel_type: r.channel_type }));
    const policy = await policyFor(tx, alertLike);
    const levels = await levelsFrom(tx, ctx.tenantId, severity, policy?.levels ?? [], now);
    return {
      at: now,
      alert: { severity, device_id: deviceId, site_id: device.site_id, type: alertLike.alert_type, rule_id: ruleId },
      routing,
      policy: policy ? { id: policy.id, name: policy.name, repeat_count: policy.repeat_count, repeat_delay_minutes: policy.repeat_delay_minutes } : null,
      levels,
    };
  });
}

export interface PolicyPreview {
  at: Date;
  severity: Severity;
  levels: DryRun["levels"];
}

/**
 * Whom each level of one policy would reach for an alert of this severity
 * opened now, each level at the time it would fire (the policy page's
 * preview; no device or rule involved). Nothing is sent or written.
 */
export async function previewEscalationPolicy(deps: EscalationDeps, ctx: Ctx, policyId: string, input: { severity?: unknown } = {}): Promise<PolicyPreview> {
  requirePermission(ctx, "read", "preview paging");
  const severity = (input.severity ?? "CRITICAL") as Severity;
  if (!SEVERITIES.includes(severity)) throw invalid("severity", `severity: one of ${SEVERITIES.join(", ")}`);
  const now = deps.clock.now();
  return withTenant(deps.db, ctx, async (tx) => {
    const policy = await findPolicy(tx, ctx.tenantId, policyId);
    if (!policy) throw notFound(`escalation policy ${policyId}`);
    return { at: now, severity, levels: await levelsFrom(tx, ctx.tenantId, severity, policy.levels, now) };
  });
}

/** Each level of a policy run that starts now: when it would fire, and whom each target would reach then, through what. */
async function levelsFrom(tx: Sql, tenantId: string, severity: Severity, policyLevels: readonly LevelRow[], now: Date): Promise<DryRun["levels"]> {
  const levels: DryRun["levels"] = [];
  let at = now.getTime();
  for (const l of policyLevels) {
    at += l.delay_minutes * 60_000;
    const outcomes = await resolveLevel(tx, { tenantId, severity }, l.targets, new Date(at));
    levels.push({
      level: l.position,
      at: new Date(at),
      delay_minutes: l.delay_minutes,
      targets: outcomes.map((o) => ({
        target: o.target,
        who: o.who,
        onCallFor: o.onCallFor,
        skipped: o.skipped,
        message: describeOutcome(l.position, o),
        via: o.pages.map((p) => ("recipient" in p.destination ? { kind: p.destination.recipient.kind, address: p.destination.recipient.address } : { channel_id: p.destination.channelId })),
      })),
    });
  }
  return levels;
}
