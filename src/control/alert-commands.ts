// CLI admin commands for alerts: the inbox of a tenant, and acknowledging or
// closing alerts by id. Whoever can reach the control socket (or open the
// data dir) is the machine's administrator, so these run as an
// operator-admin named "cli" inside the tenant given with --tenant; the
// timeline says "cli" did it.

import { createAlertBus } from "../alerts/bus.ts";
import { attachTransitionHooks } from "../alerts/transition-hooks.ts";
import { publicUrl } from "../config.ts";
import { SEVERITIES, type Severity } from "../alerts/evaluate.ts";
import { actOnAlerts, listTenantAlerts, type AlertAction } from "../alerts/service.ts";
import type { AlertFilter } from "../alerts/store.ts";
import type { Ctx } from "../lib/ctx.ts";
import { invalid } from "../lib/errors.ts";
import { getTenant } from "../tenants/service.ts";
import type { CommandDeps, CommandHandler } from "./commands.ts";

const cliCtx = (tenantId: string): Ctx => ({ actor: { kind: "system", id: "cli", name: "cli" }, role: "operator-admin", tenantId });

const STATUSES = ["OPEN", "ACKNOWLEDGED", "CLOSED", "ALL", "ACTIVE"] as const;

/** The tenant of --tenant, which must exist (a mistyped one would otherwise just look quiet). */
async function tenantCtx(deps: CommandDeps, args: Record<string, unknown>): Promise<Ctx> {
  const id = args.tenant;
  if (typeof id !== "string" || id === "") throw invalid("tenant", "--tenant is required");
  await getTenant(deps, cliCtx(id), id);
  return cliCtx(id);
}

/** --severity CRITICAL, --severity 1, or several: --severity critical,high. */
function severities(v: unknown): Severity[] | undefined {
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string") throw invalid("severity", "--severity: CRITICAL, HIGH, MEDIUM, LOW or INFO (or 1-5)");
  return v.split(",").map((s) => {
    const t = s.trim().toUpperCase();
    const level = /^[1-5]$/.test(t) ? SEVERITIES[Number(t) - 1] : SEVERITIES.find((x) => x === t);
    if (!level) throw invalid("severity", `--severity: ${s.trim()} is not one of CRITICAL, HIGH, MEDIUM, LOW, INFO (or 1-5)`);
    return level;
  });
}

function ids(args: Record<string, unknown>): string[] {
  const v = args.ids;
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== "string" || x === "")) throw invalid("ids", "give one or more alert ids");
  return v as string[];
}

/**
 * The server's bus when inside it; otherwise one with the same in-transaction
 * hooks, so an acknowledgement made while the server is stopped still queues
 * its notifications (sent once the server runs).
 */
const alertDeps = (deps: CommandDeps) => ({
  db: deps.db,
  clock: deps.clock,
  bus: deps.alertBus ?? attachTransitionHooks(createAlertBus(), { publicUrl: () => publicUrl(deps.config), retryHorizonSeconds: deps.config["notify.retry_hours"] * 3600 }),
  onError: (err: unknown) => deps.log.error("alerts: listener failed", { error: err }),
});

const act =
  (action: (args: Record<string, unknown>) => AlertAction): CommandHandler =>
  async (deps, args) =>
    actOnAlerts(alertDeps(deps), await tenantCtx(deps, args), ids(args), action(args));

export const ALERT_COMMANDS: Record<string, CommandHandler> = {
  "alerts.list": async (deps, args) => {
    const ctx = await tenantCtx(deps, args);
    const status = typeof args.status === "string" && args.status !== "" ? args.status.toUpperCase() : "ACTIVE";
    if (!STATUSES.includes(status as (typeof STATUSES)[number])) throw invalid("status", `--status: one of ${STATUSES.join(", ")}`);
    const limit = args.limit === undefined ? 100 : Number(args.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalid("limit", "--limit: 1 to 500");
    return listTenantAlerts(deps, ctx, { status: status as AlertFilter["status"], severity: severities(args.severity), limit });
  },
  "alerts.ack": act(() => ({ kind: "acknowledge" })),
  "alerts.close": act((args) => ({ kind: "close", reason: typeof args.reason === "string" && args.reason !== "" ? args.reason : undefined })),
};
