// Signing keys: rotated when due, old ones published until their tokens
// expire, and a key that the secret key can no longer decrypt (secret key
// changed, secret.key lost) replaced instead of breaking sign-in for good.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createKeyStore } from "../../src/auth/oidc/keys.ts";
import { manualClock } from "../../src/lib/clock.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { createSecretBox } from "../../src/lib/secrets.ts";
import { freshDb, type TestDb } from "../helpers/databases.ts";

describe("signing keys", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await freshDb("pglite");
  });
  afterAll(() => db.dispose());

  test("a key unreadable with the current secret key is replaced; the JWKS still publishes the old one until it expires", async () => {
    const clock = manualClock("2026-06-01T00:00:00Z");
    const common = { db: db.db, clock, rotateAfterDays: 90, maxTokenLifetimeMs: 15 * 60_000, log: silentLogger() };
    const before = createKeyStore({ ...common, secrets: await createSecretBox("first-secret-key-first-secret-key-123") });
    const first = await before.signingKey();

    const after = createKeyStore({ ...common, secrets: await createSecretBox("second-secret-key-second-secret-key-45") });
    const second = await after.signingKey();
    expect(second.kid).not.toBe(first.kid);
    const kids = (await after.jwks()).keys.map((k) => k.kid);
    expect(kids).toContain(first.kid);
    expect(kids).toContain(second.kid);
    // Stable afterwards: the new key is readable, so no more rotation.
    expect((await after.signingKey()).kid).toBe(second.kid);
  });

  test("a key is replaced after signing_key_days", async () => {
    const clock = manualClock("2026-06-01T00:00:00Z");
    const secrets = await createSecretBox("rotation-secret-key-rotation-secret-key");
    const keys = createKeyStore({ db: db.db, clock, secrets, rotateAfterDays: 90, maxTokenLifetimeMs: 15 * 60_000 });
    const a = await keys.signingKey();
    clock.advance(89 * 86_400_000);
    expect((await keys.signingKey()).kid).toBe(a.kid);
    clock.advance(2 * 86_400_000);
    expect((await keys.signingKey()).kid).not.toBe(a.kid);
  });
});
