// Reads made once per transaction, and possibly early. The alert transaction's
// hooks (routing, escalation) read what only depends on the alert's tenant,
// device and rule; the engine asks for those reads at the start of the
// transaction, so they go out pipelined with the alert change itself rather
// than one round trip after it. The hooks then get the same promise.

import type { Sql } from "./db.ts";

const memos = new WeakMap<Sql, Map<string, Promise<unknown>>>();

/** The read `key` of this transaction: started by the first caller, shared by the others. */
export function txMemo<T>(tx: Sql, key: string, read: () => Promise<T>): Promise<T> {
  let m = memos.get(tx);
  if (!m) memos.set(tx, (m = new Map()));
  let p = m.get(key) as Promise<T> | undefined;
  if (!p) {
    p = read();
    // A read started early may fail before anyone awaits it; whoever awaits it sees the failure.
    p.catch(() => {});
    m.set(key, p);
  }
  return p;
}
