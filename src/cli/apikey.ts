// pulse apikey create --tenant T --role R --name N
import { guard, type Command } from "./command.ts";
import { runSub, type Sub } from "./admin.ts";

const SUBS: Record<string, Sub> = {
  create: {
    command: "apikey.create",
    options: { tenant: { type: "string" }, role: { type: "string" }, name: { type: "string" }, "expires-in-days": { type: "string" } },
    print: (r, io, json) => {
      const out = r as { key: { id: string; name: string; role: string; tenantId: string; expiresAt: string | null }; secret: string };
      if (json) return io.out(JSON.stringify(out, null, 2));
      io.out(`${out.secret}\n`);
      io.err(`API key "${out.key.name}" for tenant ${out.key.tenantId} as ${out.key.role}${out.key.expiresAt ? `, expires ${out.key.expiresAt}` : ""}.\nThis is the only time it is shown. Use it as: Authorization: Bearer <key>`);
    },
  },
};

export const apikey: Command = {
  name: "apikey",
  summary: "Create API keys for scripts and automation",
  usage: `Usage: pulse apikey create --tenant T --role customer|tenant-admin --name N [--expires-in-days D]

Prints the key once (on stdout, so it can be captured: KEY=$(pulse apikey create …)).
Common options: --json, -c/--config PATH. Works with or without a running server.`,
  run: (argv, io) => guard(io, apikey, () => runSub(argv, io, SUBS, apikey.usage)),
};
