-- 0003: identity. Pulse is its own OIDC provider: signing keys, clients,
-- authorization codes, refresh tokens, web sessions; plus API keys, invites,
-- password resets, login throttling, external identity providers and the
-- audit log. Secrets are stored only as SHA-256 hashes (high-entropy tokens)
-- or encrypted (private keys, upstream client secrets).

-- Signing keys for tokens (ES256). The private JWK is encrypted with the
-- config's secret key. A retired key no longer signs but stays in the JWKS
-- until every token it signed has expired (expires_at).
CREATE TABLE signing_keys (
  kid           text PRIMARY KEY,
  alg           text NOT NULL DEFAULT 'ES256',
  private_jwk   text NOT NULL,
  public_jwk    jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  retired_at    timestamptz,
  expires_at    timestamptz
);

-- OAuth clients. first_party: the web UI and the CLI (no consent screen).
-- Tenant clients are registered by tenant-admins and only ever get tokens for
-- their own tenant's users.
CREATE TABLE oauth_clients (
  id            text PRIMARY KEY,
  tenant_id     text REFERENCES tenants (id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  first_party   boolean NOT NULL DEFAULT false,
  -- NULL for public clients (PKCE only).
  secret_hash   text,
  redirect_uris text[] NOT NULL DEFAULT '{}',
  post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
  created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);
CREATE INDEX oauth_clients_tenant_idx ON oauth_clients (tenant_id);
-- First-party clients (tenant_id NULL) are visible only to system work.
SELECT pulse_enable_rls('oauth_clients');
-- The web UI: a public client (PKCE) whose redirect URI is relative, so sign-in
-- works on whatever host the browser used.
INSERT INTO oauth_clients (id, name, first_party) VALUES ('pulse-web', 'Pulse web UI', true);

CREATE TABLE oauth_codes (
  code_hash      text PRIMARY KEY,
  client_id      text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tenant_id      text REFERENCES tenants (id) ON DELETE CASCADE,
  redirect_uri   text NOT NULL,
  code_challenge text NOT NULL,
  scope          text NOT NULL,
  nonce          text,
  auth_time      timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz,
  -- The refresh-token family the code was exchanged for: revoked if the code is replayed.
  refresh_family uuid
);

-- Refresh tokens rotate on every use; a token presented after it was rotated
-- means it leaked, and its whole family is revoked.
CREATE TABLE oauth_refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash  text NOT NULL UNIQUE,
  family_id   uuid NOT NULL,
  client_id   text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tenant_id   text REFERENCES tenants (id) ON DELETE CASCADE,
  scope       text NOT NULL,
  auth_time   timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX oauth_refresh_tokens_family_idx ON oauth_refresh_tokens (family_id);

CREATE TABLE oauth_consents (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id  text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  scope      text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, client_id)
);

-- Server-side sessions. The cookie holds a random id; only its hash is stored.
-- kind 'idp': the person is signed in at Pulse's OpenID provider (single
-- sign-on for every client); kind 'app': the web UI's own session, made when
-- the UI completed the authorization code flow. tenant_id is the tenant the
-- person is working in now.
CREATE TABLE sessions (
  id_hash      text PRIMARY KEY,
  kind         text NOT NULL DEFAULT 'app' CHECK (kind IN ('idp', 'app')),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tenant_id    text REFERENCES tenants (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ip           text,
  user_agent   text,
  revoked_at   timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- API keys for scripts: "pulse_<prefix>_<secret>", scoped to one tenant and role.
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  prefix       text NOT NULL UNIQUE,
  secret_hash  text NOT NULL,
  role         text NOT NULL CHECK (role IN ('customer', 'tenant-admin')),
  created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);
SELECT pulse_enable_rls('api_keys');

CREATE TABLE invites (
  token_hash  text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email       text NOT NULL,
  role        text NOT NULL CHECK (role IN ('customer', 'tenant-admin')),
  invited_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX invites_tenant_idx ON invites (tenant_id);
SELECT pulse_enable_rls('invites');

CREATE TABLE password_resets (
  token_hash text PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);

-- Failed sign-ins per account and per client address, shared by all nodes,
-- checked before any password is hashed.
CREATE TABLE login_throttle (
  key          text PRIMARY KEY,
  failures     integer NOT NULL DEFAULT 0,
  window_start timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz
);

-- Upstream OpenID Connect providers (Keycloak, Entra ID, Google…). tenant_id
-- NULL: platform-wide, configured by an operator-admin.
CREATE TABLE identity_providers (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      text REFERENCES tenants (id) ON DELETE CASCADE,
  slug           text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  issuer         text NOT NULL,
  client_id      text NOT NULL,
  client_secret  text,
  scopes         text NOT NULL DEFAULT 'openid profile email',
  -- [{"claim": "groups", "equals": "ops", "tenant": "acme", "role": "tenant-admin"}, …]
  mappings       jsonb NOT NULL DEFAULT '[]',
  default_role   text CHECK (default_role IN ('customer', 'tenant-admin')),
  jit            boolean NOT NULL DEFAULT true,
  enabled        boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX identity_providers_slug_key ON identity_providers (slug);
SELECT pulse_enable_rls('identity_providers');

CREATE TABLE federated_identities (
  provider_id uuid NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
  subject     text NOT NULL,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz,
  PRIMARY KEY (provider_id, subject)
);

-- Append-only record of security-relevant events. tenant_id NULL: platform
-- events (operators, tenants, sign-ins before a tenant is chosen).
CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time        timestamptz NOT NULL DEFAULT now(),
  tenant_id   text,
  actor_kind  text NOT NULL,
  actor_id    text,
  actor_name  text NOT NULL,
  action      text NOT NULL,
  target_kind text,
  target_id   text,
  ip          text,
  request_id  text,
  details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, time DESC);
CREATE INDEX audit_log_time_idx ON audit_log (time DESC);
SELECT pulse_enable_rls('audit_log');

-- The app may only append; retention runs as the owner.
CREATE FUNCTION pulse_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_user = 'pulse_app' THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION pulse_audit_append_only();
