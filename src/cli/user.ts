// pulse user create|list|reset-password|disable|enable
import { guard, type Command } from "./command.ts";
import { runSub, table, type Sub } from "./admin.ts";

interface UserOut {
  id: string;
  username: string;
  email: string | null;
  name: string;
  platformRole: string | null;
  status: string;
  role?: string;
  lastLoginAt: string | null;
}

const one: Sub["print"] = (r, io, json) => {
  const u = r as UserOut;
  io.out(json ? JSON.stringify(u, null, 2) : `${u.username}  ${u.status}  ${u.platformRole ?? u.role ?? ""}  ${u.email ?? ""}`.trimEnd());
};

const SUBS: Record<string, Sub> = {
  create: {
    command: "user.create",
    options: {
      username: { type: "string" },
      email: { type: "string" },
      name: { type: "string" },
      tenant: { type: "string" },
      role: { type: "string" },
      "platform-role": { type: "string" },
      "password-stdin": { type: "boolean" },
    },
    print: (r, io, json) => {
      const out = r as { user: UserOut; generatedPassword?: string };
      if (json) return io.out(JSON.stringify(out, null, 2));
      io.out(`created ${out.user.username} (${out.user.id})`);
      if (out.generatedPassword) io.out(`one-time password: ${out.generatedPassword}\n(shown once; they choose a new one at first sign-in)`);
    },
  },
  list: {
    command: "user.list",
    options: { tenant: { type: "string" } },
    print: (r, io, json) => {
      const us = r as UserOut[];
      if (json) return io.out(JSON.stringify(us, null, 2));
      io.out(
        us.length
          ? table([["USERNAME", "STATUS", "ROLE", "EMAIL", "LAST SIGN-IN"], ...us.map((u) => [u.username, u.status, u.role ?? u.platformRole ?? "-", u.email ?? "-", u.lastLoginAt ?? "never"])])
          : "no users",
      );
    },
  },
  "reset-password": {
    command: "user.reset-password",
    positionals: ["user"],
    print: (r, io, json) => {
      const l = r as { link: string; expiresAt: string; emailed: boolean };
      io.out(json ? JSON.stringify(l, null, 2) : `reset link (works once, until ${l.expiresAt}${l.emailed ? "; also emailed" : ""}):\n${l.link}`);
    },
  },
  disable: { command: "user.disable", positionals: ["user"], print: one },
  enable: { command: "user.enable", positionals: ["user"], print: one },
};

export const user: Command = {
  name: "user",
  summary: "Create, list, disable users and make password reset links",
  usage: `Usage: pulse user <subcommand> [options]

  create --username U [--email E] [--name N] [--tenant T --role customer|tenant-admin]
         [--platform-role operator|operator-admin] [--password-stdin]
      create a local user; without --password-stdin a one-time password is
      printed and must be changed at first sign-in
  list [--tenant T]           all users, or the members of one tenant
  reset-password USER         a one-time reset link (emailed when SMTP is set)
  disable USER                sign them out everywhere and refuse sign-in
  enable USER                 allow sign-in again

USER is a username, an email or a user id.
Common options: --json, -c/--config PATH. Works with or without a running server.`,
  run: (argv, io) =>
    guard(io, user, async () => {
      // The password never goes on the command line (it would be in ps and shell history).
      if (argv[0] === "create" && argv.includes("--password-stdin")) {
        const password = (await Bun.stdin.text()).replace(/\r?\n$/, "");
        return runSub([...argv.filter((a) => a !== "--password-stdin"), "--password", password], io, { ...SUBS, create: { ...SUBS.create!, options: { ...SUBS.create!.options, password: { type: "string" } } } }, user.usage);
      }
      return runSub(argv, io, SUBS, user.usage);
    }),
};
