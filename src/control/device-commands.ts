// CLI admin commands for devices and their sites. Whoever can reach the control socket (or
// open the data dir) is the machine's administrator, so these run as an
// operator-admin named "cli", inside the tenant given with --tenant.

import type { DeviceDeps } from "../devices/deps.ts";
import { importDevices } from "../devices/import.ts";
import { createDevice, decommissionDevice, listDevices, type Device } from "../devices/service.ts";
import { rotateDeviceToken } from "../devices/tokens.ts";
import { parseTags } from "../devices/validate.ts";
import type { Ctx } from "../lib/ctx.ts";
import { createSite, listSites } from "../sites/service.ts";
import { invalid } from "../lib/errors.ts";
import type { CommandDeps, CommandHandler } from "./commands.ts";

const cliCtx = (tenantId: string): Ctx => ({ actor: { kind: "system", id: "cli", name: "cli" }, role: "operator-admin", tenantId });
const devices = (d: CommandDeps): DeviceDeps => ({ db: d.db, clock: d.clock, afterChange: d.afterDeviceChange });

const str = (args: Record<string, unknown>, key: string, flag = key.replaceAll("_", "-")): string => {
  const v = args[key];
  if (typeof v !== "string" || v === "") throw invalid(key, `--${flag} is required`);
  return v;
};
const opt = (args: Record<string, unknown>, key: string): string | undefined => (typeof args[key] === "string" && args[key] !== "" ? (args[key] as string) : undefined);

/** --tag k=v, repeated, into tags (a key without "=" has the empty value). */
function tagsFrom(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  const obj: Record<string, string> = {};
  for (const t of Array.isArray(v) ? v : [v]) {
    if (typeof t !== "string") continue;
    const i = t.indexOf("=");
    obj[(i < 0 ? t : t.slice(0, i)).trim()] = i < 0 ? "" : t.slice(i + 1);
  }
  return parseTags("tag", obj);
}

export const DEVICE_COMMANDS: Record<string, CommandHandler> = {
  "site.add": (deps, args) => createSite(deps, cliCtx(str(args, "tenant")), { id: str(args, "id", "ID"), name: opt(args, "name"), timezone: opt(args, "timezone") }),
  "site.list": (deps, args) => listSites(deps, cliCtx(str(args, "tenant")), { limit: 10_000 }),

  "device.add": (deps, args) =>
    createDevice(devices(deps), cliCtx(str(args, "tenant")), { id: str(args, "id", "ID"), site_id: str(args, "site"), name: opt(args, "name"), tags: tagsFrom(args.tag) }),

  "device.list": async (deps, args) => {
    const ctx = cliCtx(str(args, "tenant"));
    const all: Device[] = [];
    let cursor: string | undefined;
    do {
      const page = await listDevices(devices(deps), ctx, { limit: 1000, cursor });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  },

  "device.rotate-token": (deps, args) => rotateDeviceToken(devices(deps), cliCtx(str(args, "tenant")), str(args, "id", "ID"), { overlapSeconds: opt(args, "overlap_seconds") }),

  "device.revoke": (deps, args) => decommissionDevice(devices(deps), cliCtx(str(args, "tenant")), str(args, "id", "ID"), { reason: opt(args, "reason") }),

  "device.import": (deps, args) => {
    if (typeof args.csv !== "string") throw invalid("csv", "the CSV text is required");
    return importDevices(devices(deps), cliCtx(str(args, "tenant")), args.csv, { dryRun: args.dry_run === true });
  },
};
