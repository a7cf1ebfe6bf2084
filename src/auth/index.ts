// Everything identity needs, wired once from config: the key store, the
// provider, sessions, throttling, users, API keys, and the cookie names.

import type { Config } from "../config.ts";
import type { Db } from "../db/db.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { SecretBox } from "../lib/secrets.ts";
import type { Mailer } from "../notify/mailer.ts";
import { createSafeFetch } from "../notify/safe-fetch.ts";
import type { ApiKeyDeps } from "./apikeys/service.ts";
import { FETCH_TIMEOUT_MS } from "./federation/discovery.ts";
import type { FederationDeps } from "./federation/service.ts";
import { createKeyStore, type KeyStore } from "./oidc/keys.ts";
import type { ProviderDeps } from "./oidc/provider.ts";
import type { SessionDeps } from "./sessions/service.ts";
import type { ThrottleDeps } from "./throttle.ts";
import type { LinkDeps } from "./users/invites.ts";

export interface CookieNames {
  /** The web UI's session. */
  session: string;
  /** The provider's single-sign-on session. */
  idp: string;
  /** Short-lived state of a sign-in in progress (PKCE verifier, state, where to go next). */
  login: string;
  /** Double-submit token of the provider's sign-in form. */
  formCsrf: string;
  secure: boolean;
}

export interface Auth {
  db: Db;
  clock: Clock;
  log: Logger;
  secrets: SecretBox;
  mailer: Mailer;
  keys: KeyStore;
  issuer: () => string;
  publicUrl: () => string;
  provider: ProviderDeps;
  sessions: SessionDeps;
  throttle: ThrottleDeps;
  users: LinkDeps;
  apikeys: ApiKeyDeps;
  federation: FederationDeps;
  cookies: CookieNames;
}

export function createAuth(deps: { config: Config; db: Db; clock: Clock; log: Logger; secrets: SecretBox; mailer: Mailer; publicUrl: () => string }): Auth {
  const { config, db, clock } = deps;
  const accessTokenSeconds = config["auth.access_token_minutes"] * 60;
  const keys = createKeyStore({
    db,
    clock,
    secrets: deps.secrets,
    rotateAfterDays: config["auth.signing_key_days"],
    maxTokenLifetimeMs: accessTokenSeconds * 1000,
    log: deps.log,
  });
  const issuer = deps.publicUrl;
  // __Host- cookies must be Secure, which browsers refuse over plain HTTP
  // (other than localhost), so the prefix is used only when Pulse is served over TLS.
  const secure = deps.publicUrl().startsWith("https:");
  const name = (base: string) => (secure ? `__Host-${base}` : base);
  return {
    db,
    clock,
    log: deps.log,
    secrets: deps.secrets,
    mailer: deps.mailer,
    keys,
    issuer,
    publicUrl: deps.publicUrl,
    provider: { db, clock, keys, issuer, accessTokenSeconds, refreshTokenDays: config["auth.refresh_token_days"] },
    sessions: { db, clock, secrets: deps.secrets, lifetimeMs: config["auth.session_hours"] * 3_600_000, idleMs: config["auth.session_idle_minutes"] * 60_000 },
    throttle: { db, clock, maxPerAccount: config["auth.login_max_failures"], maxPerIp: config["auth.login_max_failures_per_ip"] },
    users: { db, clock, mailer: deps.mailer, publicUrl: deps.publicUrl, log: deps.log },
    apikeys: { db, clock },
    federation: {
      db,
      clock,
      secrets: deps.secrets,
      publicUrl: deps.publicUrl,
      cache: new Map(),
      // Always refuses private addresses; used for tenant providers unless the operator allows private networks.
      guardedFetch: createSafeFetch({ allowPrivate: false, timeoutMs: FETCH_TIMEOUT_MS, setting: "[auth] federation_allow_private_networks" }),
      allowPrivateNetworks: config["auth.federation_allow_private_networks"],
    },
    cookies: { session: name("pulse_session"), idp: name("pulse_idp"), login: name("pulse_login"), formCsrf: name("pulse_form"), secure },
  };
}
