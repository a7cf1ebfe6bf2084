// CLI admin commands for tenants, users and API keys. Whoever can reach the
// control socket (or open the data dir) is the machine's administrator, so
// these run as an operator-admin named "cli".

import { createApiKey } from "../auth/apikeys/service.ts";
import { createPasswordReset } from "../auth/users/invites.ts";
import { createUser, listAllPlatformUsers, listTenantMembers, setUserStatus } from "../auth/users/service.ts";
import { findUserByLogin } from "../auth/users/store.ts";
import { publicUrl } from "../config.ts";
import { withSystem } from "../db/scope.ts";
import type { Caller, Ctx } from "../lib/ctx.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { randomPassword } from "../lib/ids.ts";
import { createMailer } from "../notify/mailer.ts";
import { changeTenantStatus, createTenant, listTenants } from "../tenants/service.ts";
import type { CommandDeps, CommandHandler } from "./commands.ts";

const CLI: Caller = { actor: { kind: "system", id: "cli", name: "cli" }, role: "operator-admin" };
const tenantCtx = (tenantId: string): Ctx => ({ ...CLI, tenantId });

const str = (args: Record<string, unknown>, key: string): string => {
  const v = args[key];
  if (typeof v !== "string" || v === "") throw invalid(key, `--${key.replaceAll("_", "-")} is required`);
  return v;
};
const opt = (args: Record<string, unknown>, key: string): string | undefined => (typeof args[key] === "string" && args[key] !== "" ? (args[key] as string) : undefined);

async function userId(deps: CommandDeps, login: string): Promise<string> {
  const u = await withSystem(deps.db, (tx) => findUserByLogin(tx, login));
  if (!u) throw notFound(`user ${login}`);
  return u.id;
}

const tenantTransition =
  (t: "suspend" | "resume" | "delete" | "restore"): CommandHandler =>
  async (deps, args) =>
    changeTenantStatus(deps, CLI, str(args, "id"), t);

export const IDENTITY_COMMANDS: Record<string, CommandHandler> = {
  "tenant.create": (deps, args) => createTenant(deps, CLI, { id: str(args, "id"), name: opt(args, "name"), timezone: opt(args, "timezone") }),
  "tenant.list": (deps, args) => listTenants(deps, CLI, { includeDeleted: args.all === true }),
  "tenant.suspend": tenantTransition("suspend"),
  "tenant.resume": tenantTransition("resume"),
  "tenant.delete": tenantTransition("delete"),
  "tenant.restore": tenantTransition("restore"),

  "user.create": async (deps, args) => {
    const given = opt(args, "password");
    const password = given ?? randomPassword();
    const tenant = opt(args, "tenant");
    const role = opt(args, "role");
    if (tenant && !role) throw invalid("role", "--role is required with --tenant (customer or tenant-admin)");
    if (role && !tenant) throw invalid("tenant", "--tenant is required with --role");
    const user = await createUser(deps, CLI, {
      username: opt(args, "username"),
      email: opt(args, "email"),
      name: opt(args, "name"),
      password,
      platformRole: opt(args, "platform_role"),
      tenant: tenant ? { id: tenant, role } : undefined,
      mustChangePassword: given === undefined,
    });
    return { user, generatedPassword: given === undefined ? password : undefined };
  },
  "user.list": async (deps, args) => {
    const tenant = opt(args, "tenant");
    return tenant ? listTenantMembers(deps, tenantCtx(tenant)) : listAllPlatformUsers(deps, CLI);
  },
  "user.reset-password": async (deps, args) => {
    const id = await userId(deps, str(args, "user"));
    const link = await createPasswordReset({ ...deps, mailer: createMailer(deps.config), publicUrl: () => publicUrl(deps.config) }, CLI, id);
    return link;
  },
  "user.disable": async (deps, args) => setUserStatus(deps, CLI, await userId(deps, str(args, "user")), "DISABLED"),
  "user.enable": async (deps, args) => setUserStatus(deps, CLI, await userId(deps, str(args, "user")), "ACTIVE"),

  "apikey.create": async (deps, args) => {
    const days = opt(args, "expires_in_days");
    const { key, secret } = await createApiKey(deps, tenantCtx(str(args, "tenant")), { name: str(args, "name"), role: str(args, "role"), expiresInDays: days });
    return { key, secret };
  },
};

