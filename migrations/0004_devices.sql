-- 0004: the device registry, device credentials, latest state, events,
-- quarantine of rejected messages, and the metric catalog.

-- Tenant-wide device defaults and limits.
ALTER TABLE tenants
  ADD COLUMN heartbeat_seconds integer NOT NULL DEFAULT 60 CHECK (heartbeat_seconds BETWEEN 5 AND 86400),
  ADD COLUMN device_limit integer CHECK (device_limit >= 0);

CREATE TABLE sites (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         text NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  timezone   text NOT NULL DEFAULT 'UTC',
  lat        double precision CHECK (lat BETWEEN -90 AND 90),
  lng        double precision CHECK (lng BETWEEN -180 AND 180),
  address    text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
SELECT pulse_enable_rls('sites');

CREATE TABLE devices (
  tenant_id          text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id                 text NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  name               text NOT NULL DEFAULT '',
  site_id            text NOT NULL,
  status             text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PENDING', 'REVOKED')),
  tags               jsonb NOT NULL DEFAULT '{}',
  -- NULL: the tenant's heartbeat_seconds.
  heartbeat_seconds  integer CHECK (heartbeat_seconds BETWEEN 5 AND 86400),
  parent_device_id   text,
  model              text,
  serial             text,
  lat                double precision CHECK (lat BETWEEN -90 AND 90),
  lng                double precision CHECK (lng BETWEEN -180 AND 180),
  metadata           jsonb NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  decommissioned_at  timestamptz,
  decommissioned_by  text,
  decommission_reason text,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);
CREATE INDEX devices_site_idx ON devices (tenant_id, site_id);
CREATE INDEX devices_tags_idx ON devices USING gin (tags);
SELECT pulse_enable_rls('devices');

-- Provision tokens: only hashes. A rotated token may live on until
-- expires_at (the overlap), so devices can be updated without a gap.
CREATE TABLE device_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    text NOT NULL,
  device_id    text NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX device_tokens_device_idx ON device_tokens (tenant_id, device_id);
SELECT pulse_enable_rls('device_tokens');

-- One-time activation codes for factory provisioning (PROTOCOL.md).
CREATE TABLE activation_codes (
  code_hash  text PRIMARY KEY,
  tenant_id  text NOT NULL,
  device_id  text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
SELECT pulse_enable_rls('activation_codes');

-- Latest state per device, updated once per ingest batch, so fleet views
-- never scan telemetry.
CREATE TABLE device_state (
  tenant_id         text NOT NULL,
  device_id         text NOT NULL,
  last_seen_at      timestamptz,
  last_telemetry_at timestamptz,
  last_heartbeat_at timestamptz,
  connectivity      text NOT NULL DEFAULT 'OFFLINE' CHECK (connectivity IN ('ONLINE', 'STALE', 'OFFLINE')),
  connectivity_since timestamptz NOT NULL DEFAULT now(),
  last_metrics      jsonb NOT NULL DEFAULT '{}',
  last_seq          bigint,
  seq_gaps          bigint NOT NULL DEFAULT 0,
  messages          bigint NOT NULL DEFAULT 0,
  lat               double precision,
  lng               double precision,
  PRIMARY KEY (tenant_id, device_id),
  FOREIGN KEY (tenant_id, device_id) REFERENCES devices (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX device_state_connectivity_idx ON device_state (tenant_id, connectivity);
SELECT pulse_enable_rls('device_state');

CREATE TABLE device_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text NOT NULL,
  device_id  text NOT NULL,
  time       timestamptz NOT NULL DEFAULT now(),
  kind       text NOT NULL,
  details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX device_events_device_idx ON device_events (tenant_id, device_id, time DESC);
SELECT pulse_enable_rls('device_events');

-- Rejected messages, newest first, bounded per tenant by a pruning job.
-- tenant_id is NULL when the message named no tenant that exists.
CREATE TABLE quarantine (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text,
  device_id  text,
  time       timestamptz NOT NULL DEFAULT now(),
  reason     text NOT NULL,
  transport  text NOT NULL,
  topic      text,
  detail     text,
  payload    text
);
CREATE INDEX quarantine_tenant_idx ON quarantine (tenant_id, id DESC);
SELECT pulse_enable_rls('quarantine');

-- Rejections counted per tenant and reason (quarantine keeps only the newest).
CREATE TABLE rejection_counts (
  tenant_id  text NOT NULL,
  reason     text NOT NULL,
  count      bigint NOT NULL DEFAULT 0,
  last_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, reason)
);
SELECT pulse_enable_rls('rejection_counts');

-- Every metric name seen per tenant. Normalized metrics read raw × multiplier + offset.
CREATE TABLE metric_catalog (
  tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name          text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('number', 'boolean', 'string')),
  unit          text,
  display_name  text,
  multiplier    double precision,
  "offset"      double precision,
  normalized_unit text,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
SELECT pulse_enable_rls('metric_catalog');
