// Password hashing: argon2id through Bun.password with OWASP's minimums
// (19 MiB memory, 2 iterations). Verification accepts any hash Bun.password
// produced, so parameters can be raised later without breaking logins.

export const ARGON2 = { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 } as const;

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return Bun.password.verify(password, hash).catch(() => false);
}
