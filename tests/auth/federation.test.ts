// Signing in to Pulse through a company's own OpenID provider. The company's
// provider here is a second Pulse (it is a certified-shape OpenID provider),
// on another loopback address so the two keep separate cookies, as two hosts would.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "../../src/auth/oidc/clients.ts";
import { createUser } from "../../src/auth/users/service.ts";
import { mapClaims } from "../../src/auth/federation/service.ts";
import { discover, type Discovered, type UpstreamDeps } from "../../src/auth/federation/discovery.ts";
import { insertProvider } from "../../src/auth/federation/store.ts";
import { createTenant } from "../../src/tenants/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import { agent, formFields, signedIn } from "../helpers/agent.ts";
import { PASSWORDS, platformAdmin, seedCast } from "../helpers/cast.ts";
import { freePort, startPulse, type TestPulse } from "../helpers/pulse.ts";

// Hooks do not take bunfig's test timeout; booting Pulse on a busy machine can take longer than 5 s.
const HOOK_MS = 60_000;

describe("federated sign-in through an upstream OpenID provider", () => {
  let upstream: TestPulse; // the company's identity provider
  let pulse: TestPulse; // the Pulse people sign in to
  let clientId: string;
  let clientSecret: string;

  beforeAll(async () => {
    const upPort = await freePort("127.0.0.1");
    upstream = await startPulse({ config: { "http.port": upPort, public_url: `http://127.0.0.1:${upPort}` } });
    const port = await freePort("127.0.0.2");
    pulse = await startPulse({ config: { "http.host": "127.0.0.2", "http.port": port, public_url: `http://127.0.0.2:${port}` } });
    await seedCast(pulse.app);

    // Upstream: the company "initech" with its engineer uma, and Pulse registered as a confidential client.
    const deps = { db: upstream.app.db, clock: upstream.app.clock };
    await createTenant(deps, platformAdmin, { id: "initech", name: "Initech" });
    await createUser(deps, platformAdmin, { username: "uma", email: "uma@initech.test", name: "Uma Engineer", password: "initech-printer-jam-again", tenant: { id: "initech", role: "tenant-admin" } });
    const reg = await createClient(deps, { ...platformAdmin, tenantId: "initech" }, { name: "Pulse at Acme", redirectUris: [`${pulse.url}/auth/federated/callback`], confidential: true });
    clientId = reg.client.id;
    clientSecret = reg.secret!;
  }, HOOK_MS);
  afterAll(async () => {
    await pulse?.stop();
    await upstream?.stop();
  }, HOOK_MS);

  test("the operator-admin adds the provider; an unreachable issuer is refused naming the field", async () => {
    const admin = await signedIn(pulse.url, "admin", PASSWORDS.admin);
    const bad = await admin.send("/api/v1/identity-providers", {
      method: "POST",
      body: JSON.stringify({ scope: "platform", slug: "nowhere", name: "Nowhere", issuer: "http://127.0.0.1:9", client_id: "x" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("issuer");

    const res = await admin.send("/api/v1/identity-providers", {
      method: "POST",
      body: JSON.stringify({
        scope: "platform",
        slug: "initech",
        name: "Initech SSO",
        issuer: upstream.url,
        client_id: clientId,
        client_secret: clientSecret,
        // Initech's engineers become acme customers; initech's tenant-admins acme tenant-admins.
        mappings: [
          { claim: "role", equals: "tenant-admin", tenant: "acme", role: "tenant-admin" },
          { claim: "tenant_id", equals: "initech", tenant: "acme", role: "customer" },
        ],
      }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { has_client_secret: boolean; client_secret?: string };
    expect(body.has_client_secret).toBe(true);
    expect(body.client_secret).toBeUndefined();
  });

  test("uma signs in with Initech SSO and lands in acme as tenant-admin, created just in time", async () => {
    const uma = agent(pulse.url);
    // The sign-in page offers the provider.
    let res = await uma.fetch("/login?next=/");
    res = await uma.fetch(res.headers.get("location")!);
    const page = await res.text();
    expect(page).toContain("Sign in with Initech SSO");
    const ssoHref = /href="(\/login\/sso\/initech\?resume=[^"]+)"/.exec(page)![1]!.replaceAll("&amp;", "&");

    // Off to the company's provider, which asks for uma's password and her consent.
    res = await uma.fetch(ssoHref);
    expect(res.status).toBe(303);
    const upstreamAuthorize = res.headers.get("location")!;
    expect(upstreamAuthorize.startsWith(`${upstream.url}/oauth/authorize?`)).toBe(true);
    res = await uma.fetch(upstreamAuthorize);
    const form = formFields(await res.text());
    res = await uma.fetch(`${upstream.url}/oauth/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...form, username: "uma", password: "initech-printer-jam-again" }).toString(),
    });
    expect(res.status).toBe(200); // consent: Pulse is a third-party client of Initech
    const consent = formFields(await res.text());
    res = await uma.fetch(`${upstream.url}/oauth/consent`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...consent, decision: "allow" }).toString(),
    });
    expect(res.headers.get("location")!.startsWith(`${pulse.url}/auth/federated/callback?`)).toBe(true);

    // Back at Pulse: the code is exchanged, uma exists now, and the original sign-in resumes.
    res = await uma.fetch(res.headers.get("location")!);
    expect(res.headers.get("location")!.startsWith("/oauth/authorize?")).toBe(true);
    res = await uma.fetch(res.headers.get("location")!);
    res = await uma.fetch(res.headers.get("location")!); // /auth/callback
    expect(res.status).toBe(303);
    const me = (await (await uma.fetch("/api/v1/me")).json()) as { name: string; tenant_id: string; role: string };
    expect(me).toMatchObject({ name: "uma", tenant_id: "acme", role: "tenant-admin" });

    const audit = await withSystem(pulse.app.db, (tx) => tx.query<{ action: string }>("select action from audit_log where actor_name = 'uma' order by id"));
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(["user.created_jit", "auth.login"]));
  });

  test("carol cannot point a globex provider at the appliance's own network: 400 naming issuer, nothing stored", async () => {
    const carol = await signedIn(pulse.url, "carol", PASSWORDS.carol);
    const port = new URL(upstream.url).port;
    // Loopback (where a real provider answers), IPv6 loopback, cloud metadata, a private LAN, a name for loopback.
    for (const issuer of [upstream.url, `http://[::1]:${port}`, "http://169.254.169.254/latest", "http://10.0.0.1", `http://localhost:${port}`]) {
      const res = await carol.send("/api/v1/identity-providers", { method: "POST", body: JSON.stringify({ slug: "globex-sso", name: "Globex SSO", issuer, client_id: "pulse" }) });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { field: string; message: string } };
      expect(error.field).toBe("issuer");
      expect(error.message).toContain("private address");
      expect(error.message).toContain("federation_allow_private_networks");
    }
    const stored = await withSystem(pulse.app.db, (tx) => tx.query("select id from identity_providers where tenant_id = 'globex'"));
    expect(stored).toHaveLength(0);

    // Nor can an existing globex provider be moved there.
    const existing = await withSystem(pulse.app.db, (tx) =>
      insertProvider(tx, { tenant_id: "globex", slug: "globex-public", name: "Globex public", issuer: "https://idp.globex.example", client_id: "pulse", client_secret: null, scopes: "openid", mappings: [], default_role: "customer", jit: true, enabled: true, now: new Date() }),
    );
    const moved = await carol.send(`/api/v1/identity-providers/${existing!.id}`, { method: "PATCH", body: JSON.stringify({ issuer: upstream.url }) });
    expect(moved.status).toBe(400);
    expect(((await moved.json()) as { error: { field: string } }).error.field).toBe("issuer");
    const [after] = await withSystem(pulse.app.db, (tx) => tx.query<{ issuer: string }>("select issuer from identity_providers where id = $1", [existing!.id]));
    expect(after!.issuer).toBe("https://idp.globex.example");
  });

  test("with auth.federation_allow_private_networks on, carol's provider on 127.0.0.1 is accepted", async () => {
    const port = await freePort("127.0.0.3");
    const onPrem = await startPulse({ config: { "http.host": "127.0.0.3", "http.port": port, public_url: `http://127.0.0.3:${port}`, "auth.federation_allow_private_networks": true } });
    try {
      await seedCast(onPrem.app);
      const carol = await signedIn(onPrem.url, "carol", PASSWORDS.carol);
      const res = await carol.send("/api/v1/identity-providers", { method: "POST", body: JSON.stringify({ slug: "globex-sso", name: "Globex SSO", issuer: upstream.url, client_id: "pulse" }) });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { tenant_id: string }).tenant_id).toBe("globex");
    } finally {
      await onPrem.stop();
    }
  }, HOOK_MS);

  test("claims map by the first matching rule; a tenant provider falls back to its default role", () => {
    const platform = { tenant_id: null, default_role: null, mappings: [{ claim: "groups", equals: "ops", tenant: "acme", role: "tenant-admin" as const }, { claim: "groups", equals: "noc", platform_role: "operator" as const }] };
    expect(mapClaims(platform, { groups: ["dev", "ops"] })).toEqual({ tenant: { id: "acme", role: "tenant-admin" } });
    expect(mapClaims(platform, { groups: ["noc"] })).toEqual({ platformRole: "operator" });
    expect(mapClaims(platform, { groups: ["dev"] })).toEqual({});
    expect(mapClaims({ tenant_id: "globex", default_role: "customer", mappings: [] }, {})).toEqual({ tenant: { id: "globex", role: "customer" } });
  });
});

// The guard below the API: what a tenant provider's discovery document may
// point Pulse at, and which fetch its key set uses. The issuer is a public
// documentation address (TEST-NET-3); the "network" is a stub.
describe("discovery of a tenant's provider", () => {
  const issuer = "https://203.0.113.7/realms/globex";
  const document = (over: Partial<Record<string, string>> = {}) => ({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/certs`, ...over });
  const stubbed = (doc: object) => {
    const calls: string[] = [];
    const deps: UpstreamDeps = {
      cache: new Map<string, Discovered>(),
      allowPrivateNetworks: false,
      guardedFetch: async (url) => {
        calls.push(url);
        return Response.json(url.endsWith("/openid-configuration") ? doc : { keys: [] });
      },
    };
    return { deps, calls };
  };

  test("a document that sends the token or key requests to a private address is refused, naming issuer", async () => {
    for (const over of [{ token_endpoint: "http://127.0.0.1:8080/token" }, { jwks_uri: "http://169.254.169.254/latest/meta-data" }, { jwks_uri: "http://[fd00::1]/certs" }]) {
      const { deps } = stubbed(document(over));
      const err = await discover(deps, issuer, true, true).catch((e: unknown) => e);
      expect(err).toMatchObject({ field: "issuer", status: 400 });
      expect((err as Error).message).toContain("private address");
      expect(deps.cache.size).toBe(0);
    }
  });

  test("the key set is fetched through the guarded fetch, and a platform provider's cached document is not reused", async () => {
    const { deps, calls } = stubbed(document());
    // A platform provider with the same issuer was discovered unguarded earlier.
    const trusted = { doc: document({ jwks_uri: "http://10.0.0.5/certs" }), jwks: (() => {}) as never, at: Date.now() };
    deps.cache.set(`trusted ${issuer}`, trusted);
    const entry = await discover(deps, issuer, true);
    expect(entry).not.toBe(trusted);
    expect(entry.doc.jwks_uri).toBe(`${issuer}/certs`);
    expect(calls).toEqual([`${issuer}/.well-known/openid-configuration`]);
    await entry.jwks({ alg: "RS256", kid: "k1" }, { payload: "", signature: "" } as never).catch(() => {});
    expect(calls).toEqual([`${issuer}/.well-known/openid-configuration`, `${issuer}/certs`]);
  });
});
