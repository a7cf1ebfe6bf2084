// pulse tenant create|list|suspend|resume|delete|restore
import { guard, type Command } from "./command.ts";
import { runSub, table, type Sub } from "./admin.ts";

interface TenantOut {
  id: string;
  name: string;
  status: string;
  timezone: string;
  createdAt: string;
  purgeAfter: string | null;
}

const one: Sub["print"] = (r, io, json) => {
  const t = r as TenantOut;
  io.out(json ? JSON.stringify(t, null, 2) : `${t.id}  ${t.status}  ${t.name}  (${t.timezone})${t.purgeAfter ? `  purged after ${t.purgeAfter}` : ""}`);
};

const SUBS: Record<string, Sub> = {
  create: { command: "tenant.create", positionals: ["id"], options: { name: { type: "string" }, timezone: { type: "string" } }, print: one },
  list: {
    command: "tenant.list",
    options: { all: { type: "boolean" } },
    print: (r, io, json) => {
      const ts = r as TenantOut[];
      if (json) return io.out(JSON.stringify(ts, null, 2));
      io.out(ts.length ? table([["ID", "STATUS", "TIMEZONE", "NAME"], ...ts.map((t) => [t.id, t.status, t.timezone, t.name])]) : "no tenants yet; create one with: pulse tenant create ID --name NAME");
    },
  },
  suspend: { command: "tenant.suspend", positionals: ["id"], print: one },
  resume: { command: "tenant.resume", positionals: ["id"], print: one },
  delete: { command: "tenant.delete", positionals: ["id"], print: one },
  restore: { command: "tenant.restore", positionals: ["id"], print: one },
};

export const tenant: Command = {
  name: "tenant",
  summary: "Create, list, suspend, resume, delete or restore tenants",
  usage: `Usage: pulse tenant <subcommand> [options]

  create ID [--name NAME] [--timezone ZONE]   create a tenant (id: letters, digits, . _ -)
  list [--all]                                 list tenants (--all: also deleted ones)
  suspend ID                                   refuse its sign-ins, API keys and data
  resume ID                                    undo a suspension
  delete ID                                    delete; data is purged after 30 days
  restore ID                                   undo a deletion within the 30 days

Common options: --json, -c/--config PATH. Works with or without a running server.`,
  run: (argv, io) => guard(io, tenant, () => runSub(argv, io, SUBS, tenant.usage)),
};
