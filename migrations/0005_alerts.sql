-- 0005: alerting. Rules (thresholds; NO_HEARTBEAT is built in and tuned by
-- heartbeat rules), the per (rule, device) evaluation state that survives
-- restarts, alerts with exactly one open alert per fingerprint, their
-- timelines, and maintenance windows.

CREATE TABLE alert_rules (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  rule_type        text NOT NULL DEFAULT 'THRESHOLD' CHECK (rule_type IN ('THRESHOLD')),
  metric_name      text NOT NULL,
  -- Compare the normalized value (metric_catalog multiplier/offset) instead of the raw one.
  normalized       boolean NOT NULL DEFAULT false,
  operator         text NOT NULL CHECK (operator IN ('GT', 'GTE', 'LT', 'LTE', 'EQ', 'NEQ')),
  -- A number for GT/GTE/LT/LTE; a number, boolean or string for EQ/NEQ.
  threshold        jsonb NOT NULL,
  clear_threshold  double precision,
  duration_seconds integer NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
  severity         text NOT NULL CHECK (severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO')),
  -- {"sites": [...]} | {"tags": {"k": "v"}} | {"devices": [...]} | {} (all devices)
  scope            jsonb NOT NULL DEFAULT '{}',
  enabled          boolean NOT NULL DEFAULT true,
  auto_close       boolean NOT NULL DEFAULT true,
  reopen_window_seconds integer NOT NULL DEFAULT 3600 CHECK (reopen_window_seconds >= 0),
  escalation_policy_id uuid,
  created_by       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rules_tenant_idx ON alert_rules (tenant_id, metric_name);
SELECT pulse_enable_rls('alert_rules');

-- NO_HEARTBEAT tuning by site or tag; without a matching row the tenant
-- default applies (enabled, HIGH, no extra grace).
CREATE TABLE heartbeat_rules (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scope         jsonb NOT NULL DEFAULT '{}',
  grace_seconds integer NOT NULL DEFAULT 0 CHECK (grace_seconds >= 0),
  severity      text NOT NULL DEFAULT 'HIGH' CHECK (severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO')),
  enabled       boolean NOT NULL DEFAULT true,
  auto_close    boolean NOT NULL DEFAULT true,
  escalation_policy_id uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
SELECT pulse_enable_rls('heartbeat_rules');

-- Evaluation state per (rule, device): when the condition started holding
-- (for `for` durations) and whether it is firing (for hysteresis).
CREATE TABLE rule_state (
  tenant_id     text NOT NULL,
  rule_id       uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  device_id     text NOT NULL,
  pending_since timestamptz,
  firing        boolean NOT NULL DEFAULT false,
  last_value    jsonb,
  last_at       timestamptz,
  PRIMARY KEY (rule_id, device_id)
);
CREATE INDEX rule_state_pending_idx ON rule_state (pending_since) WHERE pending_since IS NOT NULL AND NOT firing;
SELECT pulse_enable_rls('rule_state');

CREATE TABLE alerts (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- "THRESHOLD:<rule>:<device>" or "NO_HEARTBEAT:<device>"
  fingerprint      text NOT NULL,
  alert_type       text NOT NULL CHECK (alert_type IN ('THRESHOLD', 'NO_HEARTBEAT')),
  rule_id          uuid,
  device_id        text NOT NULL,
  site_id          text,
  severity         text NOT NULL CHECK (severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO')),
  status           text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'ACKNOWLEDGED', 'CLOSED')),
  summary          text NOT NULL,
  metric_name      text,
  last_value       jsonb,
  trigger_count    integer NOT NULL DEFAULT 1,
  opened_at        timestamptz NOT NULL DEFAULT now(),
  last_triggered_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  closed_at        timestamptz,
  closed_by        text,
  close_reason     text,
  silenced_until   timestamptz,
  -- Raised inside a maintenance window: recorded, never notified.
  suppressed       boolean NOT NULL DEFAULT false,
  escalation_level integer NOT NULL DEFAULT 0,
  next_escalation_at timestamptz
);
-- Exactly one open (or acknowledged) alert per fingerprint, whatever the concurrency.
CREATE UNIQUE INDEX alerts_open_fingerprint_key ON alerts (tenant_id, fingerprint) WHERE status <> 'CLOSED';
CREATE INDEX alerts_tenant_status_idx ON alerts (tenant_id, status, opened_at DESC);
CREATE INDEX alerts_device_idx ON alerts (tenant_id, device_id, opened_at DESC);
CREATE INDEX alerts_closed_fingerprint_idx ON alerts (tenant_id, fingerprint, closed_at DESC) WHERE status = 'CLOSED';
SELECT pulse_enable_rls('alerts');

CREATE TABLE alert_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  text NOT NULL,
  alert_id   uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  time       timestamptz NOT NULL DEFAULT now(),
  kind       text NOT NULL,
  actor_kind text NOT NULL DEFAULT 'system',
  actor_name text NOT NULL DEFAULT 'system',
  value      jsonb,
  details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);
SELECT pulse_enable_rls('alert_events');

CREATE TABLE maintenance_windows (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scope       jsonb NOT NULL DEFAULT '{}',
  -- One-off: starts_at/ends_at. Recurring: recurrence {"freq": "daily"|"weekly",
  -- "days": ["MO",...], "start": "HH:MM", "durationMinutes": n, "timezone": "Europe/Berlin"}
  -- within starts_at (first day) and ends_at (last day, optional).
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz,
  recurrence  jsonb,
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
SELECT pulse_enable_rls('maintenance_windows');
