// Pulse as an OpenID provider, seen by a certified relying party: alice
// registers her tenant's dashboard as a public client, openid-client discovers
// the provider and builds the request (PKCE S256, state, nonce), alice signs
// in and allows the dashboard in a real Chromium, and openid-client redeems
// the code, reads userinfo and rotates the refresh token, and notices when a
// used refresh token is played back.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { signedIn } from "../helpers/agent.ts";
import { PASSWORDS, seedCast, type Cast } from "../helpers/cast.ts";
import { registerClient, withBearer } from "../helpers/oauth.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { launchChromium } from "../e2e/browser.ts";

describe("openid-client against Pulse, signing in with Chromium", () => {
  let pulse: TestPulse;
  let cast: Cast;
  let browser: Browser;
  let callback: ReturnType<typeof Bun.serve>;
  const arrived: URL[] = [];
  let redirectUri: string;
  let config: oidc.Configuration;
  let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  let rotated: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

  beforeAll(async () => {
    // Chromium first: when it is missing the suite fails with what to install, never skips.
    browser = await launchChromium();
    pulse = await startPulse();
    cast = await seedCast(pulse.app);
    // The dashboard's own little server, catching the redirect back from Pulse.
    callback = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const url = new URL(req.url);
        // Anything else (the browser's favicon request) gets an empty answer, not a 404 that
        // Chromium would report as a console error some of the time.
        if (url.pathname !== "/cb") return new Response(null, { status: 204 });
        arrived.push(url);
        return new Response("<!doctype html><title>Dashboard</title><p>Signed in</p>", { headers: { "content-type": "text/html" } });
      },
    });
    redirectUri = `http://127.0.0.1:${callback.port}/cb`;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    callback?.stop(true);
    await pulse?.stop();
  }, 30_000);

  test("alice registers her tenant's dashboard as a public client and openid-client discovers Pulse", async () => {
    const alice = await signedIn(pulse.url, "alice", PASSWORDS.alice);
    const clientId = await registerClient(alice, [redirectUri], "Acme dashboard");
    expect(clientId.startsWith("acme.")).toBe(true);

    const issuer = pulse.app.auth.issuer();
    config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(issuer);
    expect(meta.supportsPKCE("S256")).toBe(true);
    expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
  });

  test("alice signs in and allows the dashboard in Chromium; the code comes back with state and iss", async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid profile email offline_access",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // A blocked redirect (CSP form-action) shows only as a console error: keep them for the failure message.
      const problems: string[] = [];
      page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
      page.on("pageerror", (e) => problems.push(e.message));
      const response = await page.goto(url.href, { waitUntil: "load" });
      expect(response?.status()).toBe(200);
      await page.getByLabel("Username or email").fill("alice");
      await page.getByLabel("Password").fill(PASSWORDS.alice);
      await page.getByRole("button", { name: "Sign in" }).click();
      // Not a first-party client: Pulse asks before handing out alice's identity.
      await page.getByRole("heading", { name: /Allow Acme dashboard/ }).waitFor({ timeout: 15_000 });
      expect(await page.textContent("body")).toContain("openid, profile, email, offline_access");
      await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 15_000 }), page.getByRole("button", { name: "Allow" }).click()]).catch((err) => {
        throw new Error(`the browser did not reach the client's redirect_uri: ${(err as Error).message}\n  ${problems.join("\n  ")}`);
      });
      expect(problems).toEqual([]);
      expect(await page.textContent("p")).toBe("Signed in");
    } finally {
      await context.close();
    }

    expect(arrived).toHaveLength(1);
    const back = arrived[0]!;
    expect(back.searchParams.get("state")).toBe(state);
    expect(back.searchParams.get("iss")).toBe(pulse.app.auth.issuer());

    tokens = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(tokens.refresh_token).toBeString();
  });

  test("the ID token says who alice is, in which tenant and with which role", () => {
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: pulse.app.auth.issuer(),
      sub: cast.alice.id,
      aud: config.clientMetadata().client_id,
      tenant_id: "acme",
      role: "tenant-admin",
      preferred_username: "alice",
      email: "alice@acme.test",
      name: "Alice Admin",
    });
    expect(claims.platform_role).toBeUndefined();
  });

  test("userinfo and the API accept the access token", async () => {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, cast.alice.id);
    expect(info).toMatchObject({ sub: cast.alice.id, preferred_username: "alice", email: "alice@acme.test", tenant_id: "acme", role: "tenant-admin" });

    const me = await withBearer(pulse.url, "/api/v1/me", tokens.access_token);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ kind: "user", id: cast.alice.id, tenant_id: "acme", role: "tenant-admin", via: "token" });
  });

  test("a refresh rotates the refresh token and yields a working access token", async () => {
    rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(rotated.refresh_token).toBeString();
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    expect(rotated.access_token).not.toBe(tokens.access_token);
    const me = await withBearer(pulse.url, "/api/v1/me", rotated.access_token);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { tenant_id: string }).tenant_id).toBe("acme");
  });

  test("playing back the first refresh token fails and ends the whole family, the rotated token too", async () => {
    const reuse = await oidc.refreshTokenGrant(config, tokens.refresh_token!).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(reuse).toBeInstanceOf(oidc.ResponseBodyError);
    expect((reuse as oidc.ResponseBodyError).error).toBe("invalid_grant");

    const after = await oidc.refreshTokenGrant(config, rotated.refresh_token!).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(after).toBeInstanceOf(oidc.ResponseBodyError);
    expect((after as oidc.ResponseBodyError).error).toBe("invalid_grant");

    const [entry] = await pulse.app.db.transaction(async (tx) => {
      await tx.query("select set_config('pulse.cross_tenant', 'read', true)");
      return tx.query<{ tenant_id: string; details: { client_id: string } }>("select tenant_id, details from audit_log where action = 'auth.refresh_reuse_detected'");
    });
    expect(entry).toMatchObject({ tenant_id: "acme", details: { client_id: config.clientMetadata().client_id } });
  });
});
