// Small signed values kept in cookies during a sign-in (PKCE verifier, state,
// where to go afterwards). Signed with a key derived from the secret key, so a
// cookie planted by someone else is refused.

import type { SecretBox } from "../lib/secrets.ts";

export async function seal(secrets: SecretBox, purpose: string, value: unknown): Promise<string> {
  const body = Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${body}.${await secrets.mac(purpose, body)}`;
}

export async function unseal<T>(secrets: SecretBox, purpose: string, sealed: string | undefined): Promise<T | undefined> {
  if (!sealed || sealed.length > 4000) return undefined;
  const i = sealed.lastIndexOf(".");
  if (i < 0) return undefined;
  const body = sealed.slice(0, i);
  if ((await secrets.mac(purpose, body)) !== sealed.slice(i + 1)) return undefined;
  try {
    return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Only same-site paths may be a destination after sign-in (no open redirects). */
export function safeNext(next: unknown): string {
  // "/x" yes; "//evil.example" and "/\\evil.example" (protocol-relative) no.
  return typeof next === "string" && /^\/(?![\/\\])/.test(next) && next.length < 2000 ? next : "/";
}
