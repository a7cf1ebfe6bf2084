// Row-level security under the identity tables, on both databases: the app's
// role sees no tenant rows without a scope, exactly one tenant's rows in a
// tenant scope (and cannot write another's), reads everything but writes
// nothing in the operators' cross-tenant scope. Services are skipped on
// purpose: this is the net under them.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { createClient } from "../../src/auth/oidc/clients.ts";
import { createInvite } from "../../src/auth/users/invites.ts";
import type { Sql } from "../../src/db/db.ts";
import { withCrossTenantRead, withSystem, withTenant } from "../../src/db/scope.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import { seedCast, type Cast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

// Identity tables that hold tenant rows.
const TENANT_TABLES = ["tenant_memberships", "api_keys", "invites", "oauth_clients", "identity_providers", "audit_log"] as const;

const tenantsIn = async (sql: Sql, table: string) =>
  (await sql.query<{ tenant_id: string | null }>(`select distinct tenant_id from ${table} order by tenant_id`)).map((r) => r.tenant_id);

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!err) throw new Error("expected the database to refuse");
  return err.message;
}

for (const kind of dbKinds()) {
  describe(`row-level security on the identity tables on ${kind}`, () => {
    let pulse: TestPulse;
    let cast: Cast;

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, listen: false });
      cast = await seedCast(pulse.app);
      const deps = pulse.app.auth.users;
      for (const [tenantId, admin] of [
        ["acme", cast.alice],
        ["globex", cast.carol],
      ] as const) {
        const ctx: Ctx = { tenantId, actor: { kind: "user", id: admin.id, name: admin.username }, role: "tenant-admin" };
        await createApiKey(deps, ctx, { name: `${tenantId}-key`, role: "customer" });
        await createInvite(deps, ctx, { email: `new@${tenantId}.test`, role: "customer" });
        await createClient(deps, ctx, { name: `${tenantId} app`, redirectUris: ["https://app.example/cb"] });
      }
    }, HOOK_MS);
    afterAll(() => pulse?.stop(), HOOK_MS);

    test("every identity table with tenant rows has RLS enabled and forced", async () => {
      const rows = await pulse.app.db.query<{ relname: string; on: boolean; forced: boolean }>(
        "select relname, relrowsecurity as on, relforcerowsecurity as forced from pg_class where relname = any($1::text[]) and relkind = 'r' order by relname",
        [[...TENANT_TABLES]],
      );
      expect(rows).toEqual([...TENANT_TABLES].sort().map((relname) => ({ relname, on: true, forced: true })));
    });

    test("without a scope the app sees no tenant rows at all", async () => {
      for (const table of TENANT_TABLES) {
        const [n] = await pulse.app.db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
        expect({ table, n: n!.n }).toEqual({ table, n: 0 });
      }
      // The same in a transaction that set nothing, and with an empty tenant.
      await pulse.app.db.transaction(async (tx) => {
        expect(await tenantsIn(tx, "api_keys")).toEqual([]);
        await tx.query("select set_config('pulse.tenant_id', '', true)");
        expect(await tenantsIn(tx, "tenant_memberships")).toEqual([]);
      });
      // While the rows are there for system work.
      expect(await withSystem(pulse.app.db, (tx) => tenantsIn(tx, "api_keys"))).toEqual(["acme", "globex"]);
    });

    test("a tenant scope sees only that tenant's rows", async () => {
      for (const tenantId of ["acme", "globex"]) {
        await withTenant(pulse.app.db, { tenantId }, async (tx) => {
          for (const table of ["tenant_memberships", "api_keys", "invites", "oauth_clients", "audit_log"]) {
            expect({ table, tenants: await tenantsIn(tx, table) }).toEqual({ table, tenants: [tenantId] });
          }
        });
      }
      const members = await withTenant(pulse.app.db, { tenantId: "acme" }, (tx) => tx.query<{ user_id: string }>("select user_id from tenant_memberships order by role desc"));
      expect(members.map((m) => m.user_id).sort()).toEqual([cast.alice.id, cast.bob.id].sort());
      // A tenant that does not exist sees nothing.
      expect(await withTenant(pulse.app.db, { tenantId: "nobody" }, (tx) => tenantsIn(tx, "api_keys"))).toEqual([]);
    });

    test("a tenant scope cannot write another tenant's rows", async () => {
      const acme = { tenantId: "acme" };
      expect(
        await refusal(
          withTenant(pulse.app.db, acme, (tx) =>
            tx.query("insert into api_keys (tenant_id, name, prefix, secret_hash, role) values ('globex', 'planted', 'plantedplant', 'x', 'tenant-admin')"),
          ),
        ),
      ).toMatch(/row-level security/);
      expect(
        await refusal(withTenant(pulse.app.db, acme, (tx) => tx.query("insert into tenant_memberships (tenant_id, user_id, role) values ('globex', $1, 'tenant-admin')", [cast.alice.id]))),
      ).toMatch(/row-level security/);
      // Moving an own row into another tenant is refused too.
      expect(await refusal(withTenant(pulse.app.db, acme, (tx) => tx.query("update api_keys set tenant_id = 'globex'")))).toMatch(/row-level security/);
      // Updates and deletes aimed at globex touch nothing.
      const touched = await withTenant(pulse.app.db, acme, async (tx) => [
        ...(await tx.query("update tenant_memberships set role = 'customer' where tenant_id = 'globex' returning user_id")),
        ...(await tx.query("delete from api_keys where tenant_id = 'globex' returning id")),
        ...(await tx.query("update invites set revoked_at = now() where tenant_id = 'globex' returning token_hash")),
      ]);
      expect(touched).toEqual([]);
      const carol = await withSystem(pulse.app.db, (tx) => tx.query<{ role: string }>("select role from tenant_memberships where user_id = $1", [cast.carol.id]));
      expect(carol).toEqual([{ role: "tenant-admin" }]);
      expect(await withSystem(pulse.app.db, (tx) => tenantsIn(tx, "api_keys"))).toEqual(["acme", "globex"]);
    });

    test("the operators' cross-tenant scope reads every tenant but writes nothing", async () => {
      const seen = await withCrossTenantRead(pulse.app.db, (tx) => tenantsIn(tx, "api_keys"));
      expect(seen).toEqual(["acme", "globex"]);
      expect(await refusal(withCrossTenantRead(pulse.app.db, (tx) => tx.query("insert into invites (token_hash, tenant_id, email, role, expires_at) values ('x', 'acme', 'spy@acme.test', 'tenant-admin', now() + interval '1 day')")))).toMatch(
        /row-level security/,
      );
      const touched = await withCrossTenantRead(pulse.app.db, async (tx) => [
        ...(await tx.query("update tenant_memberships set role = 'customer' returning user_id")),
        ...(await tx.query("delete from api_keys returning id")),
      ]);
      expect(touched).toEqual([]);
    });
  });
}
