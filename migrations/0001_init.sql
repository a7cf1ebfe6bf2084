-- 0001: tenants, users, roles, and the row-level security scaffolding every
-- later tenant table uses.
--
-- The application connects as `pulse_app`, a role that row-level security
-- applies to. Each transaction states its scope through settings:
--   pulse.tenant_id     the one tenant this transaction may see and change
--   pulse.cross_tenant  'read' (operators: read every tenant, audited in the app)
--                       'all'  (system work: ingest writer, sweeps, schedulers)
-- A transaction that sets neither sees no tenant rows at all.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_app') THEN
    BEGIN
      CREATE ROLE pulse_app NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL; -- created concurrently by another database's migration
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'pulse needs a role pulse_app: run as a superuser "CREATE ROLE pulse_app NOLOGIN; GRANT pulse_app TO %;"', current_user;
    END;
  END IF;
  IF NOT pg_has_role(current_user, 'pulse_app', 'MEMBER') THEN
    EXECUTE format('GRANT pulse_app TO %I', current_user);
  END IF;
END $$;

CREATE FUNCTION pulse_tenant() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('pulse.tenant_id', true), '') $$;

CREATE FUNCTION pulse_cross_tenant() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(nullif(current_setting('pulse.cross_tenant', true), ''), 'none') $$;

-- Every tenant table calls this once: RLS on (forced, so the owner is held too),
-- read/write within the scoped tenant, read across tenants for operators,
-- everything for system work. `(SELECT …)` makes Postgres evaluate the setting
-- once per statement so indexes on tenant_id stay usable.
CREATE FUNCTION pulse_enable_rls(tbl regclass) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY tenant_rw ON %s FOR ALL USING (tenant_id = (SELECT pulse_tenant())) WITH CHECK (tenant_id = (SELECT pulse_tenant()))', tbl);
  EXECUTE format('CREATE POLICY cross_tenant_read ON %s FOR SELECT USING ((SELECT pulse_cross_tenant()) IN (''read'', ''all''))', tbl);
  EXECUTE format('CREATE POLICY system_all ON %s FOR ALL USING ((SELECT pulse_cross_tenant()) = ''all'') WITH CHECK ((SELECT pulse_cross_tenant()) = ''all'')', tbl);
END $$;

-- Platform-wide settings (instance id, bootstrap state). Not tenant data.
CREATE TABLE settings (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
  id           text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status       text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED', 'DELETED')),
  timezone     text NOT NULL DEFAULT 'UTC',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  suspended_at timestamptz,
  -- Soft delete: data stays until purge_after, then a job removes it.
  deleted_at   timestamptz,
  purge_after  timestamptz
);

CREATE TABLE users (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username            text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$'),
  email               text,
  name                text NOT NULL DEFAULT '',
  -- argon2id (Bun.password); NULL for users who only sign in through an external IdP.
  password_hash       text,
  platform_role       text CHECK (platform_role IN ('operator', 'operator-admin')),
  status              text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
  must_change_password boolean NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz,
  last_login_at       timestamptz
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL;

-- A user's role inside a tenant. Tenant data: under RLS.
CREATE TABLE tenant_memberships (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('customer', 'tenant-admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_memberships_user_idx ON tenant_memberships (user_id);
SELECT pulse_enable_rls('tenant_memberships');
