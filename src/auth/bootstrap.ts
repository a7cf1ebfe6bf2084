// First start: create the operator-admin "admin" so someone can sign in. Its
// password comes from bootstrap.admin_password, or is random and printed once
// to the terminal (never to the log). Runs on every start but acts only once,
// even when several nodes start together (the settings row decides).

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import { randomPassword } from "../lib/ids.ts";
import { initSetting } from "../system/store.ts";
import { hashPassword } from "./passwords.ts";
import { passwordProblem } from "./password-policy.ts";
import { insertBootstrapAdmin } from "./users/store.ts";
import { ConfigError } from "../config.ts";

export interface BootstrapResult {
  created: boolean;
  /** Set only when Pulse generated the password: show it once. */
  generatedPassword?: string;
}

export async function ensureBootstrapAdmin(db: Db, configuredPassword: string): Promise<BootstrapResult> {
  // A configured password meets the same rules as any other.
  const problem = configuredPassword ? passwordProblem(configuredPassword, { username: "admin" }) : undefined;
  if (problem) throw new ConfigError(`bootstrap.admin_password: the password ${problem}`);
  const password = configuredPassword || randomPassword();
  // Hash outside the transaction: argon2 takes tens of milliseconds.
  const hash = await hashPassword(password);
  const created = await withSystem(db, async (tx) => {
    if (!(await initSetting(tx, "bootstrap.admin_created", new Date().toISOString()))) return false;
    await insertBootstrapAdmin(tx, hash, !configuredPassword);
    return true;
  });
  return created ? { created, generatedPassword: configuredPassword ? undefined : password } : { created };
}

/** The once-only banner, written to stderr so log shippers reading stdout never see it. */
export function printAdminBanner(out: (s: string) => void, url: string, password: string | undefined): void {
  const lines = [
    "",
    "  Pulse created the operator-admin account 'admin'.",
    password ? `  One-time password: ${password}` : "  Its password is the configured bootstrap.admin_password.",
    `  Sign in at ${url}/login` + (password ? " and choose a new password; this one is not shown again." : "."),
    "",
  ];
  out(lines.join("\n") + "\n");
}
