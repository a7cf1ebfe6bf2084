// Encryption of secrets at rest (signing keys, channel credentials) with
// AES-256-GCM under a key derived from security.secret_key. Without a
// configured key, one is generated into data_dir/secret.key (0600) on first
// start; nodes sharing a database must be given the same key in config.

import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { base64url, randomSecret } from "./ids.ts";

export interface SecretBox {
  encrypt(plain: string): Promise<string>;
  decrypt(sealed: string): Promise<string>;
  /** HMAC-SHA256 of data under a key derived for `purpose` (CSRF tokens, signed cookies), base64url. */
  mac(purpose: string, data: string): Promise<string>;
}

const PREFIX = "v1.";

/** The key material: configured, or read from (or first written to) data_dir/secret.key. */
export function resolveSecretKey(configured: string, dataDir: string): { key: string; generated: boolean; path?: string } {
  if (configured) return { key: configured, generated: false };
  const path = join(dataDir, "secret.key");
  if (existsSync(path)) return { key: readKeyFile(path), generated: false, path };
  mkdirSync(dataDir, { recursive: true });
  const key = randomSecret(32);
  try {
    writeFileSync(path, key + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another process (a CLI command beside serve) wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return { key: readKeyFile(path), generated: false, path };
    throw new Error(`secrets: cannot write ${path}`, { cause: err });
  }
  return { key, generated: true, path };
}

// An empty or truncated key file would silently encrypt everything under a
// guessable key; refuse it, with the same rule as security.secret_key.
function readKeyFile(path: string): string {
  const key = readFileSync(path, "utf8").trim();
  if (key.length < 32) throw new Error(`secrets: ${path} holds no usable key (fewer than 32 characters); restore it from a backup, or remove it only if nothing was encrypted yet`);
  return key;
}

export async function createSecretBox(keyMaterial: string): Promise<SecretBox> {
  // HKDF turns any long random string into exactly one AES key, with a purpose label.
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(keyMaterial), "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode("pulse secrets at rest v1") },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const macKeys = new Map<string, Promise<CryptoKey>>();
  const macKey = (purpose: string) => {
    let k = macKeys.get(purpose);
    if (!k) {
      k = crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(`pulse mac v1 ${purpose}`) },
        base,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
      macKeys.set(purpose, k);
    }
    return k;
  };
  return {
    async mac(purpose, data) {
      const sig = await crypto.subtle.sign("HMAC", await macKey(purpose), new TextEncoder().encode(data));
      return base64url(new Uint8Array(sig));
    },
    async encrypt(plain) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(plain)));
      return PREFIX + base64url(iv) + "." + base64url(ct);
    },
    async decrypt(sealed) {
      const parts = sealed.split(".");
      const [v, iv, ct] = parts;
      if (parts.length !== 3 || `${v}.` !== PREFIX || !iv || !ct) throw new Error("secrets: not a sealed value");
      try {
        const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: Buffer.from(iv, "base64url") }, key, Buffer.from(ct, "base64url"));
        return new TextDecoder().decode(plain);
      } catch (err) {
        throw new Error("secrets: cannot decrypt (was security.secret_key changed?)", { cause: err });
      }
    },
  };
}
