// "Forgot password" cannot be turned into a mail cannon. Someone who knows
// bob's email asks for his reset link again and again: bob gets at most three
// mails an hour, and the asker cannot tell that the rest were dropped (the
// answer is the one an unknown email gets). One address asking too often,
// for any email, is refused with 429 and Retry-After. These limits have keys
// of their own, so they neither use up nor reset the sign-in throttle.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkPassword } from "../../src/auth/login.ts";
import { RESET_MAX_PER_ACCOUNT, RESET_MAX_PER_IP } from "../../src/auth/throttle.ts";
import { requestPasswordReset, type LinkDeps } from "../../src/auth/users/invites.ts";
import { withSystem } from "../../src/db/scope.ts";
import { AppError } from "../../src/lib/errors.ts";
import type { MailMessage } from "../../src/notify/mailer.ts";
import { PASSWORDS, seedCast, type Cast } from "../helpers/cast.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

describe("password reset requests are rate-limited", () => {
  let pulse: TestPulse;
  let cast: Cast;
  let deps: LinkDeps;
  const clock = manualClock("2026-05-04T07:30:00Z");
  const mails: MailMessage[] = [];
  // Each request from its own address unless said otherwise, so only the account's limit applies.
  let nextAddress = 1;
  const ask = (email: string, ip = `203.0.113.${nextAddress++}`) => requestPasswordReset(deps, email, { ip });
  const resetsOf = async (userId: string) => (await withSystem(pulse.app.db, (tx) => tx.query<{ n: number }>("select count(*)::int as n from password_resets where user_id = $1", [userId])))[0]!.n;

  beforeAll(async () => {
    pulse = await startPulse({ clock });
    cast = await seedCast(pulse.app);
    // A mailer that keeps what it is given: SMTP is "configured".
    deps = { ...pulse.app.auth.users, mailer: { configured: true, send: async (m) => void mails.push(m) } };
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  test("bob is mailed at most three reset links an hour, however often someone asks, and the asker cannot tell", async () => {
    // Ten at once, from ten addresses: the limit holds under concurrency too.
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask("bob@acme.test")));
    // Every request got the answer an unknown email gets: nothing, no error.
    expect(answers).toEqual(Array(10).fill(undefined));
    expect(await ask("nobody@acme.test")).toBeUndefined();

    expect(mails.filter((m) => m.to === "bob@acme.test")).toHaveLength(RESET_MAX_PER_ACCOUNT);
    expect(RESET_MAX_PER_ACCOUNT).toBe(3);
    expect(await resetsOf(cast.bob.id)).toBe(3);
    // Written differently, it is still bob.
    await ask("BOB@acme.test ");
    expect(await resetsOf(cast.bob.id)).toBe(3);

    // The operator sees, once, that bob's mailbox was being flooded.
    const audit = await withSystem(pulse.app.db, (tx) => tx.query<{ target_id: string }>("select target_id from audit_log where action = 'auth.password_reset_throttled'"));
    expect(audit.map((a) => a.target_id)).toEqual([cast.bob.id]);

    // Another account is not affected.
    await ask("alice@acme.test");
    expect(mails.at(-1)!.to).toBe("alice@acme.test");

    // An hour later bob can be mailed again.
    clock.advance(60 * 60_000 + 1000);
    await ask("bob@acme.test");
    expect(await resetsOf(cast.bob.id)).toBe(4);
    expect(mails.at(-1)!.to).toBe("bob@acme.test");
  });

  test("one address may ask a handful of times per 15 minutes, for any email; then 429 with Retry-After", async () => {
    const ip = "198.51.100.7";
    const before = mails.length;
    for (let i = 0; i < RESET_MAX_PER_IP; i++) await ask(`stranger-${i}@example.test`, ip);
    expect(RESET_MAX_PER_IP).toBe(5);

    // Refused the same whether the email is unknown or carol's: a 429 says nothing about who exists.
    const refusals = [];
    for (const email of ["another-stranger@example.test", "carol@globex.test"]) {
      const err = await ask(email, ip).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AppError);
      refusals.push(err as AppError);
    }
    for (const err of refusals) {
      expect(err.status).toBe(429);
      expect(err.retryAfterSeconds).toBeGreaterThan(14 * 60);
      expect(err.retryAfterSeconds).toBeLessThanOrEqual(15 * 60);
    }
    expect(refusals[0]!.message).toBe(refusals[1]!.message);
    expect(mails.length).toBe(before); // only unknown emails so far: nothing sent, and carol was refused before lookup
    expect(await resetsOf(cast.carol.id)).toBe(0);

    // The sign-in throttle is separate: carol can still sign in from that address.
    const user = await checkPassword(pulse.app.auth.throttle, "carol", PASSWORDS.carol, { ip });
    expect(user.username).toBe("carol");

    // Once the lock has run out, the address may ask again.
    clock.advance(15 * 60_000 + 1000);
    await ask("carol@globex.test", ip);
    expect(mails.at(-1)!.to).toBe("carol@globex.test");
  });
});
