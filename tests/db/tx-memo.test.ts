// Reads shared within one transaction (db/tx-memo.ts): the alert engine starts
// the hooks' reads early and the hooks get the same answers, without a second
// query; a read that fails before anyone awaits it fails its awaiter, not the process.

import { describe, expect, test } from "bun:test";
import type { Sql } from "../../src/db/db.ts";
import { txMemo } from "../../src/db/tx-memo.ts";

const fakeTx = () => ({}) as Sql;

describe("txMemo", () => {
  test("the first caller starts the read; later callers of the same transaction share it", async () => {
    const tx = fakeTx();
    let reads = 0;
    const read = async () => ++reads;
    const early = txMemo(tx, "routes:acme", read);
    const late = txMemo(tx, "routes:acme", read);
    expect(late).toBe(early);
    expect(await late).toBe(1);
    // Another key, or another transaction, reads again.
    expect(await txMemo(tx, "routes:globex", read)).toBe(2);
    expect(await txMemo(fakeTx(), "routes:acme", read)).toBe(3);
  });

  test("a read that fails early is reported to whoever awaits it, and only then", async () => {
    const tx = fakeTx();
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on("unhandledRejection", onUnhandled);
    try {
      void txMemo(tx, "policy:acme:r1", async () => {
        throw new Error("relation does not exist");
      });
      await Bun.sleep(10);
      expect(unhandled).toEqual([]);
      await expect(txMemo(tx, "policy:acme:r1", async () => "never read")).rejects.toThrow("relation does not exist");
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
