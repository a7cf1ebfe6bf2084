// The ingest registry cache, against a scripted database so the order of
// events is exact: a change notified while a lookup is in flight must not be
// papered over by that lookup's (older) answer for the next minute.
import { expect, test } from "bun:test";
import type { Db, Sql } from "../../src/db/db.ts";
import { createRegistry, matchToken, type DeviceAuth } from "../../src/ingest/registry.ts";
import { sha256Hex } from "../../src/lib/ids.ts";

type Row = { tenant_status: string; device_status: string | null; site_id: string | null; tags?: unknown; parent_device_id?: string | null; over_limit: boolean | null; tokens: unknown[] | null };

/** A database whose registry lookups the test answers by hand, one at a time. */
function scriptedDb() {
  /** Answer the n-th lookup with this row. */
  const pending: Array<(row: Row) => void> = [];
  const tx = {
    query: async (text: string) => (text.includes("from tenants t") ? new Promise<Row[]>((resolve) => pending.push((r) => resolve([r]))) : []),
  } as unknown as Sql;
  const db = { transaction: <T>(fn: (tx: Sql) => Promise<T>) => fn(tx) } as unknown as Db;
  return { db, pending, lookups: () => pending.length };
}

const row = (status: string, hash = sha256Hex("tok")): Row => ({
  tenant_status: "ACTIVE",
  device_status: status,
  site_id: "lab-1",
  tags: {},
  parent_device_id: null,
  over_limit: false,
  tokens: [{ id: "00000000-0000-0000-0000-000000000001", hash, expires_at: null }],
});

test("answers from the cache until invalidated, then asks again", async () => {
  const { db, pending, lookups } = scriptedDb();
  const registry = createRegistry({ db, now: () => Date.now() });
  const first = registry.get("acme", "d1");
  await Bun.sleep(0);
  expect(lookups()).toBe(1);
  pending[0]!(row("ACTIVE"));
  expect((await first)?.device?.status).toBe("ACTIVE");
  expect((await registry.get("acme", "d1"))?.device?.status).toBe("ACTIVE");
  expect(lookups()).toBe(1);
  registry.invalidate("acme", "d1");
  const again = registry.get("acme", "d1");
  await Bun.sleep(0);
  expect(lookups()).toBe(2);
  pending[1]!(row("REVOKED"));
  expect((await again)?.device?.status).toBe("REVOKED");
});

test("a change notified while a lookup is in flight is not lost to that lookup's older answer", async () => {
  const { db, pending, lookups } = scriptedDb();
  const registry = createRegistry({ db, now: () => Date.now() });
  // A message arrives; its lookup reads the device while it is still ACTIVE…
  const inflight = registry.get("acme", "d1");
  await Bun.sleep(0);
  // …the device is revoked and the NOTIFY arrives before that answer does.
  registry.invalidate("acme", "d1");
  pending[0]!(row("ACTIVE"));
  await inflight;
  // The next message must see the revocation: a fresh lookup, not the stale answer cached for a minute.
  const next = registry.get("acme", "d1");
  await Bun.sleep(0);
  expect(lookups()).toBe(2);
  pending[1]!(row("REVOKED"));
  expect((await next)?.device?.status).toBe("REVOKED");
});

test("tenant-wide invalidation (suspension, device limit) reaches lookups in flight too", async () => {
  const { db, pending, lookups } = scriptedDb();
  const registry = createRegistry({ db, now: () => Date.now() });
  const inflight = registry.get("acme", "d1");
  await Bun.sleep(0);
  registry.invalidate("acme");
  pending[0]!(row("ACTIVE"));
  await inflight;
  const next = registry.get("acme", "d1");
  await Bun.sleep(0);
  expect(lookups()).toBe(2);
  pending[1]!({ ...row("ACTIVE"), tenant_status: "SUSPENDED" });
  expect((await next)?.tenantStatus).toBe("SUSPENDED");
});

test("concurrent lookups of one device share one query", async () => {
  const { db, pending, lookups } = scriptedDb();
  const registry = createRegistry({ db, now: () => Date.now() });
  const all = Promise.all([registry.get("acme", "d1"), registry.get("acme", "d1"), registry.get("acme", "d1")]);
  await Bun.sleep(0);
  expect(lookups()).toBe(1);
  pending[0]!(row("ACTIVE"));
  expect((await all).map((a) => a?.device?.status)).toEqual(["ACTIVE", "ACTIVE", "ACTIVE"]);
});

test("matchToken: only an unexpired token of this device, by its hash", async () => {
  const auth: DeviceAuth = {
    tenantId: "acme",
    deviceId: "d1",
    tenantStatus: "ACTIVE",
    device: {
      status: "ACTIVE",
      siteId: "lab-1",
      tags: {},
      parentId: null,
      overLimit: false,
      tokens: [
        { id: "new", hash: sha256Hex("new-token"), expiresAt: null },
        { id: "old", hash: sha256Hex("old-token"), expiresAt: 2_000 },
      ],
    },
  };
  expect(matchToken(auth, "new-token", 5_000)).toBe("new");
  expect(matchToken(auth, "old-token", 1_999)).toBe("old");
  expect(matchToken(auth, "old-token", 2_000)).toBeUndefined();
  expect(matchToken(auth, "other", 0)).toBeUndefined();
  expect(matchToken({ ...auth, device: undefined }, "new-token", 0)).toBeUndefined();
});
