// Identifiers and secrets. Slugs follow PROTOCOL.md; random secrets use
// WebCrypto and are URL-safe so they survive copy and paste.

export const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isSlug(s: unknown): s is string {
  return typeof s === "string" && SLUG.test(s);
}

/** base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** A random secret of `bytes` bytes (default 32 = 256 bits), base64url. */
export function randomSecret(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A random password people can type: 20 characters from an unambiguous alphabet (~115 bits). */
export function randomPassword(length = 20): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const out: string[] = [];
  // Rejection sampling keeps every character equally likely.
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < 256 - (256 % alphabet.length) && out.length < length) out.push(alphabet[b % alphabet.length]!);
    }
  }
  return out.join("");
}

/** Hex SHA-256, for hashing high-entropy tokens (not passwords). */
export function sha256Hex(s: string): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}
