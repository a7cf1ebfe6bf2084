// Setting up `pulse simulate`: a tenant, a site and N devices (created when
// missing), each with a fresh provision token handed back to the CLI over
// the control socket (or in-process), never printed.

import type { DeviceDeps } from "../devices/deps.ts";
import { createDevice } from "../devices/service.ts";
import { rotateDeviceToken } from "../devices/tokens.ts";
import { existingDeviceIds } from "../devices/store.ts";
import { withSystem, withTenant } from "../db/scope.ts";
import type { Caller, Ctx } from "../lib/ctx.ts";
import { invalid } from "../lib/errors.ts";
import { createSite } from "../sites/service.ts";
import { findSite } from "../sites/store.ts";
import { createTenant } from "../tenants/service.ts";
import { findTenant } from "../tenants/store.ts";
import type { CommandHandler } from "./commands.ts";

const CLI: Caller = { actor: { kind: "system", id: "cli", name: "simulate" }, role: "operator-admin" };

export const SIMULATE_COMMANDS: Record<string, CommandHandler> = {
  "simulate.setup": async (deps, args) => {
    const tenant = String(args.tenant ?? "demo");
    const site = String(args.site ?? "sim-1");
    const count = Number(args.devices ?? 20);
    if (!Number.isInteger(count) || count < 1 || count > 100_000) throw invalid("devices", "--devices: 1 to 100000");
    const ctx: Ctx = { ...CLI, tenantId: tenant };
    const devices: DeviceDeps = { db: deps.db, clock: deps.clock, afterChange: deps.afterDeviceChange };
    const ids = Array.from({ length: count }, (_, i) => `sim-${String(i + 1).padStart(4, "0")}`);
    if (!(await withSystem(deps.db, (tx) => findTenant(tx, tenant)))) await createTenant(deps, CLI, { id: tenant, name: tenant === "demo" ? "Demo (simulated)" : tenant });
    const existing = await withTenant(deps.db, ctx, async (tx) => ({ site: !!(await findSite(tx, site)), devices: await existingDeviceIds(tx, ids) }));
    if (!existing.site) await createSite(deps, ctx, { id: site, name: "Simulated site" });
    const out: Array<{ id: string; token: string }> = [];
    for (const id of ids) {
      if (existing.devices.has(id)) out.push({ id, token: (await rotateDeviceToken(devices, ctx, id, { overlapSeconds: 0 })).secret });
      else out.push({ id, token: (await createDevice(devices, ctx, { id, site_id: site, name: `Simulated ${id}`, tags: { simulated: "true" } })).token });
    }
    const t = await withSystem(deps.db, (tx) => findTenant(tx, tenant));
    return { tenant, site, heartbeatSeconds: t?.heartbeat_seconds ?? 60, devices: out };
  },
};
