// CLI commands for on-call schedules: who is on call now, and the timeline
// of the coming days, for a schedule named (or given by id) in --tenant. As
// with the alert commands, whoever reaches the control socket acts as an
// operator-admin inside that tenant.

import type { Ctx } from "../lib/ctx.ts";
import { invalid } from "../lib/errors.ts";
import { currentOnCall, scheduleTimeline } from "../oncall/calendar.ts";
import { getTenant } from "../tenants/service.ts";
import type { CommandDeps, CommandHandler } from "./commands.ts";

const cliCtx = (tenantId: string): Ctx => ({ actor: { kind: "system", id: "cli", name: "cli" }, role: "operator-admin", tenantId });

async function tenantCtx(deps: CommandDeps, args: Record<string, unknown>): Promise<Ctx> {
  const id = args.tenant;
  if (typeof id !== "string" || id === "") throw invalid("tenant", "--tenant is required");
  await getTenant(deps, cliCtx(id), id);
  return cliCtx(id);
}

function schedule(args: Record<string, unknown>): string {
  if (typeof args.schedule !== "string" || args.schedule === "") throw invalid("schedule", "give a schedule name or id");
  return args.schedule;
}

const scheduleOut = (s: { id: string; name: string; timezone: string }) => ({ id: s.id, name: s.name, timezone: s.timezone });

export const ONCALL_COMMANDS: Record<string, CommandHandler> = {
  "oncall.now": async (deps, args) => {
    const r = await currentOnCall(deps, await tenantCtx(deps, args), schedule(args));
    return { schedule: scheduleOut(r.schedule), at: r.at.toISOString(), user: r.user, layer: r.layer, override_id: r.overrideId, until: r.until?.toISOString() ?? null };
  },
  "oncall.timeline": async (deps, args) => {
    const days = args.days === undefined ? 14 : Number(args.days);
    if (!Number.isInteger(days) || days < 1 || days > 90) throw invalid("days", "--days: 1 to 90");
    const t = await scheduleTimeline(deps, await tenantCtx(deps, args), schedule(args), { days });
    return {
      schedule: scheduleOut(t.schedule),
      from: t.from.toISOString(),
      to: t.to.toISOString(),
      segments: t.segments.map((s) => ({ start: s.start.toISOString(), end: s.end.toISOString(), user: s.user, layer: s.layer, override_id: s.overrideId })),
      dst_transitions: t.dstTransitions.map((d) => ({ at: d.at.toISOString(), offset_before_minutes: d.offsetBefore, offset_after_minutes: d.offsetAfter })),
    };
  },
};
