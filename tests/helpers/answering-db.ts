// A database that answers every statement at once with no rows, for tests of
// what the writer does around its transactions (turns, room in the queue),
// not of the SQL. `beforeTransaction` may hold a transaction back.

import type { Db, Sql } from "../../src/db/db.ts";

export function answeringDb(beforeTransaction: () => void | Promise<void> = () => {}): Db {
  const tx = { query: async () => [], exec: async () => {}, copyRows: async () => {}, orm: undefined as never } as Sql;
  return {
    ...tx,
    kind: "pglite",
    // At once when nothing holds it back, as PGlite starts a transaction on this thread.
    transaction: <T>(fn: (t: Sql) => Promise<T>) => {
      const held = beforeTransaction();
      return held ? held.then(() => fn(tx)) : fn(tx);
    },
    session: async () => ({ ...tx, release: async () => {} }),
    listen: async () => async () => {},
    notify: async () => {},
    stats: () => ({ poolMax: 1, queries: 0, errors: 0, inflight: 0 }),
    close: async () => {},
  } as Db;
}
