// Setting up `pulse simulate`: a tenant, a site and N devices (created when
// missing), each with a fresh provision token handed back to the CLI over
// the control socket (or in-process), never printed.

import type { DeviceDeps } from "../devices/deps.ts";
import { createDevice } from "../devices/service.ts";
import { rotateDeviceToken } from "../devices/tokens.ts";
import { withSystem } from "../db/scope.ts";
import type { Caller, Ctx } from "../lib/ctx.ts";
import { invalid } from "../lib/errors.ts";
import { createSite } from "../sites/service.ts";
import { createTenant } from "../tenants/service.ts";
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
    const existing = await withSystem(deps.db, async (tx) => {
      const [t] = await tx.query<{ id: string }>("select id from tenants where id = $1", [tenant]);
      const [s] = await tx.query<{ id: string }>("select id from sites where tenant_id = $1 and id = $2", [tenant, site]);
      const ds = await tx.query<{ id: string }>("select id from devices where tenant_id = $1 and id like 'sim-%'", [tenant]);
      return { tenant: !!t, site: !!s, devices: new Set(ds.map((d) => d.id)) };
    });
    if (!existing.tenant) await createTenant(deps, CLI, { id: tenant, name: tenant === "demo" ? "Demo (simulated)" : tenant });
    if (!existing.site) await createSite(deps, ctx, { id: site, name: "Simulated site" });
    const out: Array<{ id: string; token: string }> = [];
    for (let i = 1; i <= count; i++) {
      const id = `sim-${String(i).padStart(4, "0")}`;
      if (existing.devices.has(id)) out.push({ id, token: (await rotateDeviceToken(devices, ctx, id, { overlapSeconds: 0 })).secret });
      else out.push({ id, token: (await createDevice(devices, ctx, { id, site_id: site, name: `Simulated ${id}`, tags: { simulated: "true" } })).token });
    }
    const [t] = await withSystem(deps.db, (tx) => tx.query<{ heartbeat_seconds: number }>("select heartbeat_seconds from tenants where id = $1", [tenant]));
    return { tenant, site, heartbeatSeconds: t?.heartbeat_seconds ?? 60, devices: out };
  },
};
