// pulse site add|list: the places devices belong to (pulse device add needs one).
import { guard, type Command } from "./command.ts";
import { runSub, table, type Sub } from "./admin.ts";

interface SiteOut {
  id: string;
  name: string;
  timezone: string;
  deviceCount: number;
}

const SUBS: Record<string, Sub> = {
  add: {
    command: "site.add",
    positionals: ["id"],
    options: { tenant: { type: "string" }, name: { type: "string" }, timezone: { type: "string" } },
    print: (r, io, json) => {
      const s = r as SiteOut;
      io.out(json ? JSON.stringify(s, null, 2) : `site ${s.id} created: ${s.name} (${s.timezone})`);
    },
  },
  list: {
    command: "site.list",
    options: { tenant: { type: "string" } },
    print: (r, io, json) => {
      const ss = r as SiteOut[];
      if (json) return io.out(JSON.stringify(ss, null, 2));
      io.out(ss.length ? table([["ID", "DEVICES", "TIMEZONE", "NAME"], ...ss.map((s) => [s.id, String(s.deviceCount), s.timezone, s.name])]) : "no sites yet; add one with: pulse site add --tenant T ID");
    },
  },
};

export const site: Command = {
  name: "site",
  summary: "Add or list sites, the places devices belong to",
  usage: `Usage: pulse site <subcommand> --tenant T [options]

  add --tenant T ID [--name N] [--timezone ZONE]   create a site (id: letters, digits, . _ -; zone: IANA, default UTC)
  list --tenant T                                   sites with their device counts

Common options: --json, -c/--config PATH. Works with or without a running server.`,
  run: (argv, io) => guard(io, site, () => runSub(argv, io, SUBS, site.usage)),
};
