// The real alert writer thread, which dies the way a crash would (the thread
// exits with the transaction unanswered) when handed an alert whose
// fingerprint is "crash". For write-thread.test.ts.

import "../../src/alerts/write-thread-worker.ts";

declare const self: Worker;

self.addEventListener("message", (e: MessageEvent) => {
  const req = e.data as { type: string; actions?: Array<{ fingerprint: string }> };
  if (req.type === "apply" && req.actions?.some((a) => a.fingerprint === "crash")) process.exit(1);
});
