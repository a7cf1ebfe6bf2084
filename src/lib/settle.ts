// Statements pipelined on one transaction's connection are issued together and
// awaited together. Promise.all is not enough: it rejects at the first failure
// while the others are still in flight, and the transaction could then end
// (rollback) with statements of it still queued behind.

/** Wait for all; then return their values, or throw the first failure. */
export async function settleAll<T extends readonly unknown[] | []>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as never;
}
