// Tokens an attacker might try on the API, and tricks on the authorization
// code flow. Every forged token is refused with 401 on /api/v1/me; a control
// token made the same way but without the defect is accepted, so each refusal
// is for the reason the test names. Codes are obtained through the real flow
// (alice and carol sign in at the provider's form and allow their tenant's
// client), without a browser.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt, decodeProtectedHeader, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import { pkceChallenge } from "../../src/auth/oidc/provider.ts";
import { agent, formFields, signedIn } from "../helpers/agent.ts";
import { PASSWORDS, seedCast, type Cast } from "../helpers/cast.ts";
import { authorizeCode, authorizePath, exchange, pkce, refresh, registerClient, tokenRequest, tokensFor, withBearer, type TokenSet } from "../helpers/oauth.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

// Nothing listens here: the tests read the redirect from the Location header.
const CB_PORT = 47311;
const REDIRECT = `http://127.0.0.1:${CB_PORT}/cb`;
const GLOBEX_REDIRECT = `http://127.0.0.1:${CB_PORT}/globex-cb`;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

describe("attack tokens and authorization code tricks", () => {
  let pulse: TestPulse;
  let cast: Cast;
  let acmeClient: string;
  let globexClient: string;
  let alice: TokenSet;
  let carol: TokenSet;
  /** alice's access token claims, the template of every forgery. */
  let template: JWTPayload & Record<string, unknown>;
  let kid: string;

  const now = () => Math.floor(Date.now() / 1000);
  const me = (token: string) => withBearer(pulse.url, "/api/v1/me", token);

  /** Sign claims with Pulse's own current signing key (only the defect under test differs from a real token). */
  async function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    const { key } = await pulse.app.auth.keys.signingKey();
    return new SignJWT({ ...template, jti: crypto.randomUUID(), iat: now(), nbf: now(), exp: now() + 300, ...claims })
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt", ...header })
      .sign(key);
  }

  async function refused(token: string, why?: RegExp): Promise<void> {
    const res = await me(token);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unauthorized");
    if (why) expect(body.error.message).toMatch(why);
  }

  beforeAll(async () => {
    pulse = await startPulse();
    cast = await seedCast(pulse.app);
    acmeClient = await registerClient(await signedIn(pulse.url, "alice", PASSWORDS.alice), [REDIRECT], "Acme script");
    globexClient = await registerClient(await signedIn(pulse.url, "carol", PASSWORDS.carol), [GLOBEX_REDIRECT], "Globex script");
    alice = await tokensFor(pulse.url, acmeClient, REDIRECT, "alice", PASSWORDS.alice);
    carol = await tokensFor(pulse.url, globexClient, GLOBEX_REDIRECT, "carol", PASSWORDS.carol);
    template = decodeJwt(alice.access_token) as typeof template;
    kid = decodeProtectedHeader(alice.access_token).kid!;
  }, HOOK_MS);
  afterAll(() => pulse?.stop(), HOOK_MS);

  describe("forged and misused access tokens are refused with 401", () => {
    test("control: the real token and a token forged with the real key and the same claims are accepted", async () => {
      expect(template).toMatchObject({ sub: cast.alice.id, tenant_id: "acme", role: "tenant-admin", aud: "pulse-api", client_id: acmeClient });
      for (const token of [alice.access_token, await forge({})]) {
        const res = await me(token);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ id: cast.alice.id, tenant_id: "acme", role: "tenant-admin", via: "token" });
      }
    });

    test("alg none (unsigned), with or without a signature part", async () => {
      const body = b64({ ...template, exp: now() + 300 });
      for (const alg of ["none", "None", "NONE"]) {
        const head = b64({ alg, typ: "at+jwt", kid });
        await refused(`${head}.${body}.`);
        await refused(`${head}.${body}`);
      }
    });

    test("HS256 signed with the provider's public key as the HMAC secret (JWK and PEM)", async () => {
      const jwks = (await (await fetch(`${pulse.url}/oauth/jwks`)).json()) as { keys: JWK[] };
      const jwk = jwks.keys.find((k) => k.kid === kid)!;
      expect(jwk.kty).toBe("EC");
      expect(jwk.d).toBeUndefined();
      const pem = await exportSPKI((await importJWK(jwk, "ES256")) as CryptoKey);
      for (const secret of [JSON.stringify(jwk), pem, pem.trim(), jwk.x!]) {
        for (const alg of ["HS256", "HS384", "HS512"]) {
          const token = await new SignJWT({ ...template, exp: now() + 300 }).setProtectedHeader({ alg, kid, typ: "at+jwt" }).sign(new TextEncoder().encode(secret));
          await refused(token, /algorithm not allowed/);
        }
      }
    });

    test("a stripped or altered signature", async () => {
      const [h, p, s] = alice.access_token.split(".") as [string, string, string];
      await refused(`${h}.${p}.`);
      await refused(`${h}.${p}`);
      await refused(`${h}.${p}.${"A".repeat(s.length)}`);
      // The real signature over different claims (tenant swapped to globex).
      await refused(`${h}.${b64({ ...template, tenant_id: "globex" })}.${s}`, /signature/);
    });

    test("an unknown kid, a missing kid, and a stranger's key under the real kid", async () => {
      const { privateKey } = await generateKeyPair("ES256");
      const claims = { ...template, exp: now() + 300 };
      await refused(await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "attacker-key", typ: "at+jwt" }).sign(privateKey), /unknown key/);
      await refused(await new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "at+jwt" }).sign(privateKey), /no key id/);
      await refused(await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" }).sign(privateKey), /signature/);
      // An embedded key (jwk header) is not trusted either.
      const embedded = await exportJWK((await generateKeyPair("ES256", { extractable: true })).publicKey);
      await refused(await new SignJWT(claims).setProtectedHeader({ alg: "ES256", jwk: embedded, typ: "at+jwt" }).sign(privateKey));
    });

    test("expired, and not yet valid (future nbf), beyond the clock skew", async () => {
      await refused(await forge({ iat: now() - 3600, nbf: now() - 3600, exp: now() - 120 }), /expired/);
      await refused(await forge({ nbf: now() + 600, exp: now() + 1200 }), /nbf/);
    });

    test("wrong issuer and wrong audience", async () => {
      await refused(await forge({ iss: "http://evil.example" }), /iss/);
      await refused(await forge({ iss: pulse.url.replace("127.0.0.1", "localhost") + "/" }), /iss/);
      await refused(await forge({ aud: acmeClient }), /aud/);
      await refused(await forge({ aud: "other-api" }), /aud/);
      await refused(await forge({ aud: ["other-api"] }), /aud/);
    });

    test("an ID token used as an access token", async () => {
      expect(alice.id_token).toBeString();
      await refused(alice.id_token!);
      // Even with its typ rewritten the audience gives it away.
      await refused(await forge({ aud: acmeClient }, { typ: "at+jwt" }), /aud/);
      // And the access token type is pinned on its own (RFC 9068): right audience, ID token's typ.
      await refused(await forge({}, { typ: "JWT" }), /typ/);
      await refused(await forge({}, { typ: undefined }), /typ/);
    });

    test("carol's token does not reach acme: by id it is 404, lists show only globex", async () => {
      const own = await withBearer(pulse.url, "/api/v1/me", carol.access_token);
      expect(await own.json()).toMatchObject({ id: cast.carol.id, tenant_id: "globex", role: "tenant-admin" });
      for (const id of [cast.alice.id, cast.bob.id]) {
        expect((await withBearer(pulse.url, `/api/v1/users/${id}`, carol.access_token)).status).toBe(404);
      }
      const users = (await (await withBearer(pulse.url, "/api/v1/users", carol.access_token)).json()) as { items: Array<{ username: string }> };
      expect(users.items.map((u) => u.username)).toEqual(["carol"]);
      const tenants = (await (await withBearer(pulse.url, "/api/v1/tenants", carol.access_token)).json()) as { items: Array<{ id: string }> };
      expect(tenants.items.map((t) => t.id)).toEqual(["globex"]);
      expect((await withBearer(pulse.url, "/api/v1/tenants/acme", carol.access_token)).status).toBe(404);
      // Changing acme's people by id fails as if they did not exist.
      expect((await withBearer(pulse.url, `/api/v1/users/${cast.bob.id}`, carol.access_token, { method: "PATCH", body: JSON.stringify({ role: "tenant-admin" }) })).status).toBe(404);
      expect((await withBearer(pulse.url, `/api/v1/users/${cast.bob.id}`, carol.access_token, { method: "DELETE" })).status).toBe(404);
    });

    test("carol's token re-signed to claim acme is refused: the tenant in a token must be one the account belongs to", async () => {
      const claims = decodeJwt(carol.access_token);
      await refused(await forge({ ...claims, jti: crypto.randomUUID(), tenant_id: "acme", role: "tenant-admin" }), /tenant/);
    });
  });

  describe("authorization code flow tricks are refused", () => {
    test("a code exchanged twice: the second exchange fails and the refresh tokens of the first are revoked", async () => {
      const got = await authorizeCode(pulse.url, { clientId: acmeClient, redirectUri: REDIRECT, username: "alice", password: PASSWORDS.alice });
      const first = await exchange(pulse.url, acmeClient, REDIRECT, got);
      expect(first.refresh_token).toBeString();
      const again = await tokenRequest(pulse.url, { grant_type: "authorization_code", client_id: acmeClient, redirect_uri: REDIRECT, code: got.code, code_verifier: got.verifier });
      expect(again.status).toBe(400);
      expect(await again.json()).toMatchObject({ error: "invalid_grant" });
      const r = await refresh(pulse.url, acmeClient, first.refresh_token!);
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: "invalid_grant" });
    });

    test("a code is bound to its client: another tenant's client cannot redeem it", async () => {
      const got = await authorizeCode(pulse.url, { clientId: acmeClient, redirectUri: REDIRECT, username: "alice", password: PASSWORDS.alice });
      const res = await tokenRequest(pulse.url, { grant_type: "authorization_code", client_id: globexClient, redirect_uri: REDIRECT, code: got.code, code_verifier: got.verifier });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_grant" });
    });

    test("an authorization request without PKCE, or with plain PKCE, is sent back with an error before anyone signs in", async () => {
      const pair = pkce();
      const variants = [
        authorizePath({ clientId: acmeClient, redirectUri: REDIRECT, state: "s1", pkce: null }),
        authorizePath({ clientId: acmeClient, redirectUri: REDIRECT, state: "s2", pkce: { verifier: pair.verifier, challenge: pair.verifier }, method: "plain" }),
        authorizePath({ clientId: acmeClient, redirectUri: REDIRECT, state: "s3", pkce: pair, extra: { code_challenge_method: "" } }),
        authorizePath({ clientId: acmeClient, redirectUri: REDIRECT, state: "s4", pkce: { verifier: "", challenge: "too-short" } }),
      ];
      for (const path of variants) {
        const res = await fetch(pulse.url + path, { redirect: "manual" });
        expect(res.status).toBe(303);
        const to = new URL(res.headers.get("location")!);
        expect(to.origin + to.pathname).toBe(REDIRECT);
        expect(to.searchParams.get("error")).toBe("invalid_request");
        expect(to.searchParams.get("code")).toBeNull();
        expect(to.searchParams.get("state")).toMatch(/^s\d$/);
      }
    });

    test("at the token endpoint: no code_verifier, a wrong one, or a different redirect_uri get no tokens", async () => {
      const got = await authorizeCode(pulse.url, { clientId: acmeClient, redirectUri: REDIRECT, username: "alice", password: PASSWORDS.alice });
      const base = { grant_type: "authorization_code", client_id: acmeClient, redirect_uri: REDIRECT, code: got.code };
      const missing = await tokenRequest(pulse.url, base);
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ error: "invalid_request" });
      const wrong = await tokenRequest(pulse.url, { ...base, code_verifier: pkce().verifier });
      expect(wrong.status).toBe(400);
      expect(await wrong.json()).toMatchObject({ error: "invalid_grant" });
      // The plain method's trick: whoever saw the authorization request sends its code_challenge as the verifier.
      const challengeAsVerifier = await tokenRequest(pulse.url, { ...base, code_verifier: pkceChallenge(got.verifier) });
      expect(challengeAsVerifier.status).toBe(400);
      expect(await challengeAsVerifier.json()).toMatchObject({ error: "invalid_grant" });
      const otherRedirect = await tokenRequest(pulse.url, { ...base, redirect_uri: `${REDIRECT}/x`, code_verifier: got.verifier });
      expect(otherRedirect.status).toBe(400);
      expect(await otherRedirect.json()).toMatchObject({ error: "invalid_grant" });
      // None of that spent the code: the rightful client still redeems it.
      expect((await exchange(pulse.url, acmeClient, REDIRECT, got)).access_token).toBeString();
    });

    test("redirect_uri tricks at /oauth/authorize render an error page (400) and redirect nowhere", async () => {
      const tricks = [
        `http://127.0.0.1:${CB_PORT}/cb/../evil`,
        `http://127.0.0.1:${CB_PORT}/cb/x`,
        `http://127.0.0.1:${CB_PORT}/cb?x=1`,
        `http://127.0.0.1:${CB_PORT}/cb#frag`,
        `http://127.0.0.1:${CB_PORT}/cb/`,
        `http://127.0.0.1:${CB_PORT + 1}/cb`,
        `https://127.0.0.1:${CB_PORT}/cb`,
        `http://localhost:${CB_PORT}/cb`,
        `http://127.0.0.1:${CB_PORT}/CB`,
        `http://127.0.0.1:${CB_PORT}@evil.example/cb`,
        `//127.0.0.1:${CB_PORT}/cb`,
        `/auth/callback`,
        GLOBEX_REDIRECT,
      ];
      for (const uri of tricks) {
        const res = await fetch(pulse.url + authorizePath({ clientId: acmeClient, redirectUri: uri, state: "st", pkce: pkce() }), { redirect: "manual" });
        expect({ uri, status: res.status, location: res.headers.get("location") }).toEqual({ uri, status: 400, location: null });
        const page = await res.text();
        expect(page).toContain("redirect_uri is not registered");
        expect(page).not.toContain("evil.example");
      }
      // A missing redirect_uri and an unknown client are refused the same way.
      for (const q of [`client_id=${acmeClient}&response_type=code`, `client_id=nobody&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}`]) {
        const res = await fetch(`${pulse.url}/oauth/authorize?${q}`, { redirect: "manual" });
        expect(res.status).toBe(400);
        expect(res.headers.get("location")).toBeNull();
      }
    });

    test("a redirect_uri swapped in the sign-in form's hidden fields is refused without redirecting, even with the right password", async () => {
      const a = agent(pulse.url);
      const res = await a.fetch(authorizePath({ clientId: acmeClient, redirectUri: REDIRECT, state: "st", pkce: pkce() }));
      expect(res.status).toBe(200);
      const fields = formFields(await res.text());
      expect(fields.redirect_uri).toBe(REDIRECT);
      const post = await a.fetch("/oauth/authorize", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...fields, redirect_uri: "https://evil.example/cb", username: "alice", password: PASSWORDS.alice }).toString(),
      });
      expect(post.status).toBe(400);
      expect(post.headers.get("location")).toBeNull();
    });
  });
});
