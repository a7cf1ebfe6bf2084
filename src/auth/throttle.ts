// Login throttling, per account and per client address, shared by every node
// through the database. It is checked before any password is hashed, so a
// flood of guesses costs Pulse one indexed lookup each, not an argon2 run.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { clearThrottle, findThrottles, lockThrottle, saveThrottle } from "./sessions/store.ts";

export const WINDOW_MS = 15 * 60_000;
export const LOCK_MS = 15 * 60_000;

export interface ThrottleDeps {
  db: Db;
  clock: Clock;
  maxPerAccount: number;
  maxPerIp: number;
}

const keysFor = (login: string, ip: string) => ({ account: `user:${login.toLowerCase()}`, ip: `ip:${ip}` });

/** Seconds until this login/address may try again, or 0 when it may try now. */
export async function throttledFor(deps: ThrottleDeps, login: string, ip: string): Promise<number> {
  const k = keysFor(login, ip);
  const now = deps.clock.now().getTime();
  const rows = await withSystem(deps.db, (tx) => findThrottles(tx, [k.account, k.ip]));
  const until = Math.max(0, ...rows.map((r) => r.locked_until?.getTime() ?? 0));
  return until > now ? Math.ceil((until - now) / 1000) : 0;
}

/** Count a failed attempt against both the account and the address. */
export async function recordLoginFailure(deps: ThrottleDeps, login: string, ip: string): Promise<void> {
  const k = keysFor(login, ip);
  const now = deps.clock.now();
  await withSystem(deps.db, async (tx) => {
    for (const [key, max] of [
      [k.account, deps.maxPerAccount],
      [k.ip, deps.maxPerIp],
    ] as const) {
      const row = await lockThrottle(tx, key);
      const fresh = !row || row.window_start.getTime() < now.getTime() - WINDOW_MS;
      const failures = fresh ? 1 : row.failures + 1;
      await saveThrottle(tx, {
        key,
        failures,
        window_start: fresh ? now : row.window_start,
        locked_until: failures >= max ? new Date(now.getTime() + LOCK_MS) : (row?.locked_until ?? null),
      });
    }
  });
}

/** A successful sign-in clears the account's counter (not the address's). */
export async function recordLoginSuccess(deps: ThrottleDeps, login: string): Promise<void> {
  await withSystem(deps.db, (tx) => clearThrottle(tx, keysFor(login, "").account));
}
