// Access and ID tokens: ES256 JWTs from the key store. Access tokens follow
// RFC 9068 (typ "at+jwt", aud "pulse-api"), so an ID token (typ "JWT", aud =
// the client) can never pass as an access token. Verification pins the
// algorithm (no "none", no HS/RS confusion), requires a known kid, and checks
// iss, aud, exp and nbf.

import { errors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { AppError } from "../../lib/errors.ts";
import { ALG, type KeyStore } from "./keys.ts";

export const API_AUDIENCE = "pulse-api";
export const CLOCK_SKEW_SECONDS = 30;

export interface TokenSubject {
  userId: string;
  username: string;
  name: string;
  email: string | null;
  tenantId: string | null;
  /** Tenant role in tenantId, if any. */
  tenantRole: string | null;
  platformRole: string | null;
}

export interface AccessClaims extends JWTPayload {
  sub: string;
  client_id: string;
  scope: string;
  tenant_id?: string;
  role?: string;
  platform_role?: string;
  preferred_username: string;
}

export interface TokenDeps {
  keys: KeyStore;
  issuer: () => string;
  lifetimeSeconds: number;
  now: () => Date;
}

/** A signed access token for the API. */
export async function signAccessToken(deps: TokenDeps, s: TokenSubject, clientId: string, scope: string): Promise<string> {
  const { kid, key } = await deps.keys.signingKey();
  const iat = Math.floor(deps.now().getTime() / 1000);
  return new SignJWT({
    client_id: clientId,
    scope,
    preferred_username: s.username,
    ...(s.tenantId ? { tenant_id: s.tenantId } : {}),
    ...(s.tenantRole ? { role: s.tenantRole } : {}),
    ...(s.platformRole ? { platform_role: s.platformRole } : {}),
  })
    .setProtectedHeader({ alg: ALG, kid, typ: "at+jwt" })
    .setIssuer(deps.issuer())
    .setSubject(s.userId)
    .setAudience(API_AUDIENCE)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + deps.lifetimeSeconds)
    .setJti(crypto.randomUUID())
    .sign(key);
}

/** A signed ID token for the client. */
export async function signIdToken(
  deps: TokenDeps,
  s: TokenSubject,
  clientId: string,
  opts: { nonce: string | null; authTime: Date; scope: string },
): Promise<string> {
  const { kid, key } = await deps.keys.signingKey();
  const iat = Math.floor(deps.now().getTime() / 1000);
  const scopes = new Set(opts.scope.split(" "));
  return new SignJWT({
    auth_time: Math.floor(opts.authTime.getTime() / 1000),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
    ...(scopes.has("profile") ? { name: s.name, preferred_username: s.username } : {}),
    ...(scopes.has("email") && s.email ? { email: s.email, email_verified: false } : {}),
    ...(s.tenantId ? { tenant_id: s.tenantId } : {}),
    ...(s.tenantRole ? { role: s.tenantRole } : {}),
    ...(s.platformRole ? { platform_role: s.platformRole } : {}),
  })
    .setProtectedHeader({ alg: ALG, kid, typ: "JWT" })
    .setIssuer(deps.issuer())
    .setSubject(s.userId)
    .setAudience(clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + deps.lifetimeSeconds)
    .sign(key);
}

/** Verify an access token or throw 401 naming why (without echoing the token). */
export async function verifyAccessToken(deps: Pick<TokenDeps, "keys" | "issuer" | "now">, token: string): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        if (!header.kid) throw new AppError("unauthorized", "token has no key id");
        const key = await deps.keys.verificationKey(header.kid);
        if (!key) throw new AppError("unauthorized", "token signed with an unknown key");
        return key;
      },
      {
        algorithms: [ALG],
        issuer: deps.issuer(),
        audience: API_AUDIENCE,
        typ: "at+jwt",
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: deps.now(),
        requiredClaims: ["sub", "exp", "iat", "client_id"],
      },
    );
    return payload as AccessClaims;
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError("unauthorized", describeJoseError(err));
  }
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "token expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `token ${err.claim} claim is not acceptable`;
  if (err instanceof errors.JOSEAlgNotAllowed) return "token algorithm not allowed";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "token signature is invalid";
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return "token is malformed";
  return "token is not valid";
}

/**
 * An ID token we issued, given back as id_token_hint at sign-out. Expiry is
 * not checked (the hint names who signs out, it grants nothing).
 */
export async function verifyIdTokenHint(deps: Pick<TokenDeps, "keys" | "issuer">, token: string): Promise<{ sub: string; aud: string } | undefined> {
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid ? await deps.keys.verificationKey(header.kid) : undefined;
        if (!key) throw new Error("unknown key");
        return key;
      },
      { algorithms: [ALG], issuer: deps.issuer(), typ: "JWT", currentDate: new Date(0) },
    );
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    return payload.sub && aud ? { sub: payload.sub, aud } : undefined;
  } catch {
    return undefined;
  }
}
