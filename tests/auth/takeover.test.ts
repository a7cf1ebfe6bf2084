// Ways in that must stay shut: a tenant-admin resetting the password of
// someone who also works for another tenant (carol, invited into acme, is
// globex's admin too), ids that are not ids, and a sign-out link carrying
// somebody else's ID token.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createPasswordReset } from "../../src/auth/users/invites.ts";
import { upsertMembership } from "../../src/auth/users/store.ts";
import { withSystem } from "../../src/db/scope.ts";
import { AppError } from "../../src/lib/errors.ts";
import { signedIn } from "../helpers/agent.ts";
import { PASSWORDS, seedCast, type Cast } from "../helpers/cast.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

const HOOK_MS = 60_000;

describe("account takeover attempts", () => {
  let pulse: TestPulse;
  let cast: Cast;
  beforeAll(async () => {
    pulse = await startPulse();
    cast = await seedCast(pulse.app);
    // carol, globex's admin, also helps out at acme as a customer.
    await withSystem(pulse.app.db, (tx) => upsertMembership(tx, { tenantId: "acme", userId: cast.carol.id, role: "customer", now: new Date() }));
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  test("alice cannot reset carol's password: carol belongs to globex too", async () => {
    const alice = { tenantId: "acme", actor: { kind: "user" as const, id: cast.alice.id, name: "alice" }, role: "tenant-admin" as const };
    const err = await createPasswordReset(pulse.app.auth.users, alice, cast.carol.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("forbidden");
    // bob belongs to acme alone: alice may.
    expect((await createPasswordReset(pulse.app.auth.users, alice, cast.bob.id)).link).toContain("/reset-password/");
  });

  test("a user id that is not an id is a 404, not a server error", async () => {
    const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const res = await alice.send("/api/v1/users/not-a-uuid", { method, body: method === "PATCH" ? JSON.stringify({ role: "customer" }) : undefined });
      expect(res.status).toBe(404);
    }
  });

  test("a sign-out link with someone else's ID token signs nobody out", async () => {
    const bob = await signedIn(pulse.url, "bob", PASSWORDS.bob);
    // Any syntactically fine but foreign hint: not bob's; the page asks instead of acting.
    const res = await bob.fetch("/oauth/end-session?id_token_hint=eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Sign out of Pulse?");
    expect((await bob.fetch("/api/v1/me")).status).toBe(200);
  });
});
