// The fleet overview's messages/s: what this node committed, per tenant and
// for the platform, over the last full seconds.

import { describe, expect, test } from "bun:test";
import { createIngestRate } from "../../src/fleet/rate.ts";

const from = (...tenants: string[]) => tenants.map((tenantId) => ({ env: { tenantId } }));

describe("the ingest rate", () => {
  test("each tenant's messages are counted whatever the order in the batch, and only full seconds count", () => {
    let clock = Date.UTC(2026, 10, 27, 8, 0, 0);
    const rate = createIngestRate({ windowSeconds: 2, now: () => clock });
    rate.record(from("acme", "acme", "globex", "acme", "globex", "globex", "globex", "acme"));
    rate.record(from("acme"));
    // Still the current second: nothing counted yet.
    expect(rate.perSecond("acme")).toBe(0);
    clock += 1000;
    expect(rate.perSecond("acme")).toBe(5 / 2);
    expect(rate.perSecond("globex")).toBe(4 / 2);
    expect(rate.perSecond(null)).toBe(9 / 2);
    expect(rate.perSecond("initech")).toBe(0);
    // Out of the window two seconds later.
    clock += 2000;
    expect(rate.perSecond(null)).toBe(0);
  });
});
