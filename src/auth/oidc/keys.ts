// Token signing keys (ES256). One key signs; it is replaced after
// auth.signing_key_days, and a replaced key stays in the JWKS until every
// token it signed has expired, so rotation never breaks a valid token.
// Private keys are stored encrypted with the config's secret key. Each node
// caches the keys and reloads them when it meets an unknown kid (another node
// may have rotated), at most once every few seconds.

import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import type { Db } from "../../db/db.ts";
import { withSystem } from "../../db/scope.ts";
import type { Clock } from "../../lib/clock.ts";
import { randomSecret } from "../../lib/ids.ts";
import type { SecretBox } from "../../lib/secrets.ts";
import type { Logger } from "../../lib/logger.ts";
import { deleteExpiredSigningKeys, insertSigningKey, listSigningKeys, lockSigningKeyRotation, retireSigningKeys, type SigningKeyRow } from "./store.ts";

export const ALG = "ES256";

export interface KeyStoreDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
  rotateAfterDays: number;
  /** Longest a signed token lives: a retired key is published this much longer. */
  maxTokenLifetimeMs: number;
  log?: Logger;
}

export interface KeyStore {
  /** The key that signs now (rotating first when it is due). */
  signingKey(): Promise<{ kid: string; key: CryptoKey }>;
  /** A verification key by kid, or undefined when unknown (reloads once on a miss). */
  verificationKey(kid: string): Promise<CryptoKey | undefined>;
  jwks(): Promise<{ keys: JWK[] }>;
  /** Replace the signing key now. */
  rotate(): Promise<string>;
}

const RELOAD_MIN_MS = 5000;

export function createKeyStore(deps: KeyStoreDeps): KeyStore {
  let rows: SigningKeyRow[] = [];
  let loadedAt = -Infinity;
  const publicKeys = new Map<string, CryptoKey>();
  let signer: { kid: string; key: CryptoKey; createdAt: Date } | undefined;
  let unreadable = false;

  const load = async () => {
    const now = deps.clock.now();
    rows = await withSystem(deps.db, (tx) => listSigningKeys(tx, now));
    loadedAt = performance.now();
    publicKeys.clear();
    for (const r of rows) publicKeys.set(r.kid, (await importJWK(r.public_jwk as JWK, ALG)) as CryptoKey);
    const active = rows.find((r) => r.retired_at === null);
    signer = undefined;
    unreadable = false;
    if (active) {
      try {
        signer = { kid: active.kid, key: (await importJWK(JSON.parse(await deps.secrets.decrypt(active.private_jwk)) as JWK, ALG)) as CryptoKey, createdAt: active.created_at };
      } catch (err) {
        // security.secret_key changed (or data_dir/secret.key was lost): the key cannot be
        // read, so a new one replaces it. Tokens signed before stop working; sign-in recovers.
        unreadable = true;
        deps.log?.warn("auth: the signing key cannot be decrypted with this secret key; replacing it", { error: err });
      }
    }
  };

  const rotate = async (): Promise<string> => {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomSecret(12);
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
    const privateJwk = await deps.secrets.encrypt(JSON.stringify(await exportJWK(privateKey)));
    const now = deps.clock.now();
    await withSystem(deps.db, async (tx) => {
      // One rotation at a time across nodes; the loser of a race keeps the winner's key.
      await lockSigningKeyRotation(tx);
      const fresh = (await listSigningKeys(tx, now)).find((r) => r.retired_at === null);
      if (fresh && !due(fresh.created_at, now) && !unreadable) return;
      await insertSigningKey(tx, { kid, privateJwk, publicJwk, now });
      await retireSigningKeys(tx, kid, now, new Date(now.getTime() + deps.maxTokenLifetimeMs + 60_000));
      await deleteExpiredSigningKeys(tx, now);
    });
    await load();
    return signer!.kid;
  };

  const due = (createdAt: Date, now: Date) => now.getTime() - createdAt.getTime() >= deps.rotateAfterDays * 86_400_000;

  return {
    async signingKey() {
      if (!signer) await load();
      if (!signer || due(signer.createdAt, deps.clock.now())) await rotate();
      return { kid: signer!.kid, key: signer!.key };
    },
    async verificationKey(kid) {
      if (!publicKeys.has(kid) && performance.now() - loadedAt > RELOAD_MIN_MS) await load();
      return publicKeys.get(kid);
    },
    async jwks() {
      if (performance.now() - loadedAt > 60_000) await load();
      return { keys: rows.map((r) => r.public_jwk as JWK) };
    },
    rotate,
  };
}
