-- 0006: notifications. Channels (one row per configured destination; secrets
-- encrypted), routing rules per channel, and the outbox: every routed
-- notification is a row written in the same transaction as the alert change
-- that caused it, delivered at least once by a worker that claims due rows
-- with FOR UPDATE SKIP LOCKED. Every attempt is logged.

CREATE TABLE notification_channels (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  type           text NOT NULL CHECK (type IN ('webhook', 'http', 'slack', 'pagerduty', 'teams', 'email', 'snmp', 'mqtt')),
  -- Settings that are not secret (URL host parts, templates, addresses).
  config         jsonb NOT NULL DEFAULT '{}',
  -- Secret settings (URLs with tokens, routing keys, passwords, keys), encrypted.
  secrets        text,
  enabled        boolean NOT NULL DEFAULT true,
  disabled_reason text,
  consecutive_failures integer NOT NULL DEFAULT 0,
  circuit_open_until timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_channels_tenant_idx ON notification_channels (tenant_id);
SELECT pulse_enable_rls('notification_channels');

CREATE TABLE notification_routes (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel_id       uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  min_severity     text NOT NULL DEFAULT 'INFO' CHECK (min_severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO')),
  -- Empty: every type.
  alert_types      text[] NOT NULL DEFAULT '{}',
  -- {"sites": [...], "tags": {...}}; empty: everywhere.
  scope            jsonb NOT NULL DEFAULT '{}',
  transitions      text[] NOT NULL DEFAULT '{triggered,resolved}',
  -- At most one notification per (channel, alert fingerprint) within this many seconds.
  throttle_seconds integer NOT NULL DEFAULT 0 CHECK (throttle_seconds >= 0),
  -- {"days": ["MO",...], "start": "08:00", "end": "18:00", "timezone": "Europe/Berlin"}; null: always.
  active_hours     jsonb,
  enabled          boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_routes_tenant_idx ON notification_routes (tenant_id);
SELECT pulse_enable_rls('notification_routes');

CREATE TABLE notification_outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       text NOT NULL,
  channel_id      uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  alert_id        uuid,
  event           text NOT NULL,
  -- The same across retries, so receivers can de-duplicate (webhook-id, dedup_key, Message-ID).
  idempotency_key text NOT NULL,
  payload         jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A delivery in progress holds a lease; a crashed worker's lease runs out and the row is retried.
  leased_until    timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  give_up_at      timestamptz NOT NULL
);
CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_outbox_tenant_idx ON notification_outbox (tenant_id, id DESC);
SELECT pulse_enable_rls('notification_outbox');

CREATE TABLE notification_attempts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text NOT NULL,
  outbox_id     bigint NOT NULL REFERENCES notification_outbox (id) ON DELETE CASCADE,
  time          timestamptz NOT NULL DEFAULT now(),
  ok            boolean NOT NULL,
  status_code   integer,
  latency_ms    integer NOT NULL,
  response      text,
  error         text
);
CREATE INDEX notification_attempts_outbox_idx ON notification_attempts (outbox_id, id);
SELECT pulse_enable_rls('notification_attempts');

-- Last notification per (channel, fingerprint), for throttling.
CREATE TABLE notification_throttle (
  tenant_id   text NOT NULL,
  channel_id  uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  fingerprint text NOT NULL,
  last_at     timestamptz NOT NULL,
  PRIMARY KEY (channel_id, fingerprint)
);
SELECT pulse_enable_rls('notification_throttle');
