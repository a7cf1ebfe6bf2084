// One-time links: alice invites people to acme, and admins hand out password
// reset links. The pages behind /invite/{token} and /reset-password/{token}
// call these service functions, so the rules are tested here directly: a link
// works once, not after it expires, not after it is revoked; accepting makes
// a member with the invited role; a reset ends every old session; a
// tenant-admin cannot reset a platform account. Time moves by a manual clock.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { acceptInvite, createInvite, createPasswordReset, INVITE_DAYS, listInvites, RESET_MINUTES, resetLinkValid, resetPassword, revokeInvite, viewInvite } from "../../src/auth/users/invites.ts";
import { listTenantMembers } from "../../src/auth/users/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import type { Caller, Ctx } from "../../src/lib/ctx.ts";
import { AppError } from "../../src/lib/errors.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { agent, signIn, signedIn } from "../helpers/agent.ts";
import { PASSWORDS, seedCast, type Cast } from "../helpers/cast.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

/** The AppError a promise rejects with (fails the test when it resolves). */
async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${err === undefined ? "success" : String(err)}`);
  return err;
}

const tokenOf = (link: string, kind: "invite" | "reset-password") => {
  const m = new RegExp(`/${kind}/([A-Za-z0-9_-]{43})$`).exec(link);
  if (!m) throw new Error(`not a ${kind} link: ${link}`);
  return m[1]!;
};

describe("invitations and password resets", () => {
  let pulse: TestPulse;
  let cast: Cast;
  const clock = manualClock("2026-05-04T07:30:00Z");
  let deps: TestPulse["app"]["auth"]["users"];
  let aliceCtx: Ctx;
  let bobCtx: Ctx;
  let adminCaller: Caller;

  beforeAll(async () => {
    pulse = await startPulse({ clock });
    cast = await seedCast(pulse.app);
    deps = pulse.app.auth.users;
    aliceCtx = { tenantId: "acme", actor: { kind: "user", id: cast.alice.id, name: "alice" }, role: "tenant-admin" };
    bobCtx = { tenantId: "acme", actor: { kind: "user", id: cast.bob.id, name: "bob" }, role: "customer" };
    const [admin] = await withSystem(pulse.app.db, (tx) => tx.query<{ id: string }>("select id from users where username = 'admin'"));
    adminCaller = { actor: { kind: "user", id: admin!.id, name: "admin" }, role: "operator-admin" };
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  describe("invitations", () => {
    test("alice invites dave; the link says what it offers; dave accepts with a new account and is acme's customer", async () => {
      const issued = await createInvite(deps, aliceCtx, { email: "Dave@Acme.test", role: "customer" });
      expect(issued.link.startsWith(`${pulse.app.auth.publicUrl()}/invite/`)).toBe(true);
      expect(issued.emailed).toBe(false);
      expect(issued.expiresAt.getTime()).toBe(clock.now().getTime() + INVITE_DAYS * 86_400_000);
      const token = tokenOf(issued.link, "invite");
      // Only the hash is kept.
      const rows = await withSystem(pulse.app.db, (tx) => tx.query<Record<string, unknown>>("select * from invites"));
      expect(rows.map((r) => r.token_hash)).toEqual([sha256Hex(token)]);
      expect(JSON.stringify(rows)).not.toContain(token);

      expect(await viewInvite(deps, token)).toEqual({ tenantId: "acme", tenantName: "Acme Corp", email: "dave@acme.test", role: "customer", existingUser: false });
      expect((await listInvites(deps, aliceCtx)).map((i) => i.email)).toEqual(["dave@acme.test"]);

      const { user, tenantId } = await acceptInvite(deps, token, { username: "dave", name: "Dave Field", password: "keeps-the-valves-turning" }, { ip: "192.0.2.7" });
      expect(tenantId).toBe("acme");
      expect(user).toMatchObject({ username: "dave", email: "dave@acme.test", name: "Dave Field", platformRole: null });
      const members = await listTenantMembers(deps, aliceCtx);
      expect(members.find((m) => m.username === "dave")).toMatchObject({ role: "customer" });
      expect(await listInvites(deps, aliceCtx)).toEqual([]);

      // dave signs in and works in acme as a customer.
      const dave = await signedIn(pulse.url, "dave", "keeps-the-valves-turning");
      expect(await (await dave.fetch("/api/v1/me")).json()).toMatchObject({ tenant_id: "acme", role: "customer" });

      const log = (await (await (await signedIn(pulse.url, "alice", PASSWORDS.alice)).fetch("/api/v1/audit-log?action=user.invite")).json()) as { items: Array<{ action: string; actor_name: string; ip: string | null }> };
      expect(log.items.map((e) => [e.action, e.actor_name])).toEqual([
        ["user.invite_accepted", "dave"],
        ["user.invited", "alice"],
      ]);
      expect(log.items[0]!.ip).toBe("192.0.2.7");
    });

    test("a used link is 404, for viewing and for accepting", async () => {
      const { link } = await createInvite(deps, aliceCtx, { email: "used@acme.test", role: "customer" });
      const token = tokenOf(link, "invite");
      await acceptInvite(deps, token, { username: "used-once", password: "tram-lines-and-copper-kettles" });
      expect((await failure(viewInvite(deps, token))).status).toBe(404);
      expect((await failure(acceptInvite(deps, token, { username: "used-twice", password: "second-helping-of-kettles" }))).status).toBe(404);
      const members = await listTenantMembers(deps, aliceCtx);
      expect(members.map((m) => m.username)).not.toContain("used-twice");
    });

    test("a revoked link is 404", async () => {
      const { link, invite } = await createInvite(deps, aliceCtx, { email: "revoked@acme.test", role: "tenant-admin" });
      const token = tokenOf(link, "invite");
      await revokeInvite(deps, aliceCtx, invite.id);
      expect((await failure(viewInvite(deps, token))).status).toBe(404);
      expect((await failure(acceptInvite(deps, token, { username: "revoked", password: "should-never-get-in-here" }))).status).toBe(404);
      expect((await failure(revokeInvite(deps, aliceCtx, invite.id))).status).toBe(404);
    });

    test("a link is good for seven days and 404 after", async () => {
      const { link } = await createInvite(deps, aliceCtx, { email: "late@acme.test", role: "customer" });
      const token = tokenOf(link, "invite");
      clock.advance(INVITE_DAYS * 86_400_000 - 1000);
      expect((await viewInvite(deps, token)).email).toBe("late@acme.test");
      clock.advance(1000);
      expect((await failure(viewInvite(deps, token))).status).toBe(404);
      expect((await failure(acceptInvite(deps, token, { username: "late", password: "arrived-one-second-late" }))).status).toBe(404);
    });

    test("a weak password at acceptance is refused naming the field, and the link stays usable", async () => {
      const { link } = await createInvite(deps, aliceCtx, { email: "weak@acme.test", role: "customer" });
      const token = tokenOf(link, "invite");
      const err = await failure(acceptInvite(deps, token, { username: "weak", password: "Password1234!" }));
      expect([err.status, err.field]).toEqual([400, "password"]);
      expect((await viewInvite(deps, token)).email).toBe("weak@acme.test");
    });

    test("only tenant-admins invite, and not someone who is already a member", async () => {
      expect((await failure(createInvite(deps, bobCtx, { email: "friend@acme.test", role: "tenant-admin" }))).status).toBe(403);
      const dup = await failure(createInvite(deps, aliceCtx, { email: "bob@acme.test", role: "customer" }));
      expect([dup.status, dup.field]).toEqual([409, "email"]);
      expect((await failure(createInvite(deps, aliceCtx, { email: "not-an-email", role: "customer" }))).field).toBe("email");
      expect((await failure(createInvite(deps, aliceCtx, { email: "x@acme.test", role: "operator-admin" }))).field).toBe("role");
    });
  });

  describe("password resets", () => {
    test("an admin-made link works once, ends every old session, and the old password stops working", async () => {
      const bob = await signedIn(pulse.url, "bob", PASSWORDS.bob);
      const bob2 = await signedIn(pulse.url, "bob", PASSWORDS.bob);
      const issued = await createPasswordReset(deps, adminCaller, cast.bob.id);
      const token = tokenOf(issued.link, "reset-password");
      expect(issued.expiresAt.getTime()).toBe(clock.now().getTime() + RESET_MINUTES * 60_000);
      expect(await resetLinkValid(deps, token)).toBe(true);

      const weak = await failure(resetPassword(deps, token, "watches"));
      expect([weak.status, weak.field]).toEqual([400, "password"]);
      expect(await resetLinkValid(deps, token)).toBe(true);

      await resetPassword(deps, token, "a-brand-new-phrase-for-the-pumps");
      expect((await bob.fetch("/api/v1/me")).status).toBe(401);
      expect((await bob2.fetch("/api/v1/me")).status).toBe(401);
      expect((await signIn(agent(pulse.url), "bob", PASSWORDS.bob)).status).toBe(401);
      const fresh = await signedIn(pulse.url, "bob", "a-brand-new-phrase-for-the-pumps");
      expect((await fresh.fetch("/api/v1/me")).status).toBe(200);

      expect(await resetLinkValid(deps, token)).toBe(false);
      expect((await failure(resetPassword(deps, token, "and-another-one-after-that"))).status).toBe(404);
      expect((await signIn(agent(pulse.url), "bob", "and-another-one-after-that")).status).toBe(401);
    });

    test("a reset link expires after an hour", async () => {
      const { link } = await createPasswordReset(deps, adminCaller, cast.carol.id);
      const token = tokenOf(link, "reset-password");
      clock.advance(RESET_MINUTES * 60_000);
      expect(await resetLinkValid(deps, token)).toBe(false);
      expect((await failure(resetPassword(deps, token, "too-late-for-this-phrase"))).status).toBe(404);
    });

    test("a tenant-admin resets her own members only: not a platform account, not another tenant's user", async () => {
      const forBob = await createPasswordReset(deps, aliceCtx, cast.bob.id);
      expect(forBob.link).toContain("/reset-password/");
      expect((await failure(createPasswordReset(deps, aliceCtx, cast.oscar.id))).status).toBe(404);
      expect((await failure(createPasswordReset(deps, aliceCtx, cast.carol.id))).status).toBe(404);
      expect((await failure(createPasswordReset(deps, bobCtx, cast.alice.id))).status).toBe(403);
      // The same through the API.
      const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
      expect((await alice.send(`/api/v1/users/${cast.oscar.id}/password-reset`, { method: "POST" })).status).toBe(404);
      const [admin] = await withSystem(pulse.app.db, (tx) => tx.query<{ id: string }>("select id from users where username = 'admin'"));
      expect((await alice.send(`/api/v1/users/${admin!.id}/password-reset`, { method: "POST" })).status).toBe(404);
      // Not even when the platform account is also a member of her tenant.
      const { link } = await createInvite(deps, aliceCtx, { email: "oscar@pulse.test", role: "customer" });
      await acceptInvite(deps, tokenOf(link, "invite"), { userId: cast.oscar.id });
      expect((await listTenantMembers(deps, aliceCtx)).map((m) => m.username)).toContain("oscar");
      expect((await failure(createPasswordReset(deps, aliceCtx, cast.oscar.id))).status).toBe(404);
      // An operator-admin may reset the operator.
      expect((await createPasswordReset(deps, adminCaller, cast.oscar.id)).link).toContain("/reset-password/");
    });
  });

  test("an invitation for an existing account is accepted by that account only", async () => {
    const { link } = await createInvite(deps, aliceCtx, { email: "carol@globex.test", role: "customer" });
    const token = tokenOf(link, "invite");
    expect((await viewInvite(deps, token)).existingUser).toBe(true);
    expect((await failure(acceptInvite(deps, token, { username: "carol2", password: "someone-else-entirely" }))).status).toBe(409);
    expect((await failure(acceptInvite(deps, token, { userId: cast.bob.id }))).status).toBe(403);
    const { user } = await acceptInvite(deps, token, { userId: cast.carol.id });
    expect(user.username).toBe("carol");
    expect((await listTenantMembers(deps, aliceCtx)).find((m) => m.username === "carol")?.role).toBe("customer");
  });
});
