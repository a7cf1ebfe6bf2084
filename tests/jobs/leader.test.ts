// Leader election: among the nodes sharing one database exactly one leads,
// and when it stops or its connection dies another takes over within a
// couple of intervals. On embedded PGlite there is one node, and it leads.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import type { Db } from "../../src/db/db.ts";
import { APP_ROLE } from "../../src/db/open.ts";
import { openPostgres } from "../../src/db/postgres.ts";
import { LEADER_LOCK, startLeaderElection, type Leader } from "../../src/jobs/leader.ts";
import { createLogger, silentLogger } from "../../src/lib/logger.ts";
import { dbKinds, freshDb, POSTGRES_URL, type TestDb } from "../helpers/databases.ts";

// Opening a database (initdb, a template) can take longer than bun's 5 s on a
// busy machine, and the preload's setDefaultTimeout does not reach these hooks.
setDefaultTimeout(60_000);

const INTERVAL = 200;
// A follower tries again every interval, so it takes over by the next one; the
// slack absorbs a busy machine's timer and connection delays.
const TAKEOVER = 2 * INTERVAL + 400;

/** Resolves when `condition` holds, or fails after `ms`. */
async function within(ms: number, condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await Bun.sleep(10);
  }
}

if (dbKinds().includes("postgres")) {
  describe("leader election on Postgres, two nodes", () => {
    let t: TestDb;
    let nodeB: Db;
    const elections: Leader[] = [];
    const elect = (db: Db, onChange?: (leading: boolean) => void) => {
      const leader = startLeaderElection({ db, log: silentLogger(), intervalMs: INTERVAL, onChange });
      elections.push(leader);
      return leader;
    };

    beforeEach(async () => {
      t = await freshDb("postgres");
      // A second node: its own pool on the same database, as a second `pulse serve` would have.
      nodeB = await openPostgres({ url: t.config["database.url"], poolMax: 2, statementTimeoutMs: 0, role: APP_ROLE });
    });
    afterEach(async () => {
      await Promise.all(elections.splice(0).map((e) => e.stop()));
      await nodeB.close();
      await t.dispose();
    });

    test("exactly one of them leads, and keeps leading", async () => {
      const a = elect(t.db);
      const b = elect(nodeB);
      await Promise.race([a.elected(), b.elected()]);
      for (let i = 0; i < 4; i++) {
        await Bun.sleep(INTERVAL);
        expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
      }
    });

    test("when the leader stops, the other takes over within a couple of intervals", async () => {
      const changes: boolean[] = [];
      const a = elect(t.db, (leading) => changes.push(leading));
      await a.elected();
      const b = elect(nodeB);
      await Bun.sleep(2 * INTERVAL);
      expect(b.isLeader()).toBe(false);

      await a.stop();
      expect(a.isLeader()).toBe(false);
      expect(changes).toEqual([true, false]);
      await within(TAKEOVER, () => b.isLeader(), "the follower takes over");
    });

    test("when the leader's connection dies, the other takes over and the old leader steps down", async () => {
      const a = elect(t.db);
      await a.elected();
      const b = elect(nodeB);
      await Bun.sleep(2 * INTERVAL);
      expect(b.isLeader()).toBe(false);

      const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
      try {
        // The server ends the backend holding the lock, as a network cut or a restarted proxy would.
        const killed = await admin.unsafe(
          `select pg_terminate_backend(pid) as ok from pg_locks
           where locktype = 'advisory' and classid::int8 = $1 and objid::int8 = $2 and objsubid = 1
             and database = (select oid from pg_database where datname = $3)`,
          [Math.floor(LEADER_LOCK / 2 ** 32), LEADER_LOCK % 2 ** 32, new URL(t.config["database.url"]).pathname.slice(1)],
        );
        expect(killed.map((r) => r.ok)).toEqual([true]);
      } finally {
        await admin.end();
      }

      await within(TAKEOVER, () => b.isLeader(), "the follower takes over");
      await within(TAKEOVER, () => !a.isLeader(), "the old leader steps down");
      // And the old leader does not come back while the new one holds the lock.
      await Bun.sleep(3 * INTERVAL);
      expect([a.isLeader(), b.isLeader()]).toEqual([false, true]);
    });

    test("stopping right after starting leaves no lock behind", async () => {
      const a = elect(t.db);
      await a.stop();
      const b = elect(nodeB);
      await within(TAKEOVER, () => b.isLeader(), "the other node leads");
      expect(a.isLeader()).toBe(false);
    });
  });
}

if (dbKinds().includes("pglite")) {
  describe("leader election on PGlite", () => {
    test("the single node leads, logs it, and stops leading when stopped", async () => {
      const t = await freshDb("pglite");
      const lines: Array<Record<string, unknown>> = [];
      const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(JSON.parse(l)) });
      try {
        const leader = startLeaderElection({ db: t.db, log, intervalMs: INTERVAL });
        await leader.elected();
        expect(leader.isLeader()).toBe(true);
        await Bun.sleep(2 * INTERVAL);
        expect(leader.isLeader()).toBe(true);
        await leader.stop();
        expect(leader.isLeader()).toBe(false);
        expect(lines.map((l) => l.msg)).toEqual(["leader: this node leads", "leader: this node no longer leads"]);
      } finally {
        await t.dispose();
      }
    });
  });
}
