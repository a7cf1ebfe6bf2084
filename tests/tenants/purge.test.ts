// The purge on both databases, through the services: globex leaves, carol's
// work there is in its audit trail, the operator-admin deletes the tenant, and
// thirty days later the purge removes globex with its audit trail, while acme's
// trail stays and a platform entry records that globex was purged, and who
// deleted it. Deleting audit entries needs the owner (the log is append-only for
// the app), so this is where PGlite and Postgres could differ.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { recordAudit } from "../../src/audit/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import { changeTenantStatus, purgeTenants } from "../../src/tenants/service.ts";
import { platformAdmin, seedCast, type Cast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;
const DAY = 86_400_000;

for (const kind of dbKinds()) {
  describe(`tenant purge on ${kind}`, () => {
    let pulse: TestPulse;
    let cast: Cast;
    const clock = manualClock("2026-06-01T10:00:00Z");

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, clock, listen: false });
      cast = await seedCast(pulse.app);
    }, HOOK_MS);
    afterAll(() => pulse?.stop(), HOOK_MS);

    const auditCounts = () =>
      withSystem(pulse.app.db, async (tx) =>
        Object.fromEntries(
          (await tx.query<{ tenant: string; n: number }>("select coalesce(tenant_id, 'platform') as tenant, count(*)::int as n from audit_log group by 1 order by 1")).map((r) => [r.tenant, r.n]),
        ),
      );

    test("globex is purged with its audit trail; the purge is on the platform record", async () => {
      const deps = { db: pulse.app.db, clock };
      const carol = { kind: "user" as const, id: cast.carol.id, name: "carol" };
      await recordAudit(deps, { tenantId: "globex", actor: carol, action: "device.created", target: { kind: "device", id: "press-1" } });
      await changeTenantStatus(deps, platformAdmin, "globex", "delete");
      const before = await auditCounts();
      expect(before.globex).toBeGreaterThanOrEqual(3);

      clock.advance(30 * DAY);
      expect(await purgeTenants(deps)).toEqual(["globex"]);

      const after = await auditCounts();
      expect(after.globex).toBeUndefined();
      expect(after.acme).toBe(before.acme);
      expect(after.platform).toBe((before.platform ?? 0) + 1);
      const [entry] = await withSystem(pulse.app.db, (tx) => tx.query("select tenant_id, actor_name, action, target_kind, target_id, details from audit_log where action = 'tenant.purged'"));
      expect(entry).toEqual({
        tenant_id: null,
        actor_name: "system",
        action: "tenant.purged",
        target_kind: "tenant",
        target_id: "globex",
        details: { name: "Globex", deleted_at: "2026-06-01T10:00:00.000Z", deleted_by: "system", audit_entries_removed: before.globex },
      });
      // Nothing else of globex is left, and a second run finds nothing.
      expect(await withSystem(pulse.app.db, (tx) => tx.query("select id from tenants where id = 'globex'"))).toEqual([]);
      expect(await purgeTenants(deps)).toEqual([]);
    });

    test("the app still cannot delete audit entries itself", async () => {
      const refused = await withSystem(pulse.app.db, (tx) => tx.query("delete from audit_log where tenant_id = 'acme'")).then(
        () => "allowed",
        (e: unknown) => (e as Error).message,
      );
      expect(refused).toMatch(/append-only/);
    });
  });
}
