-- 0007: on-call schedules and escalation. Schedules (a time zone) made of
-- layers, each a rotation of people, kept as versions: an edit closes the
-- current version (effective_until) and adds a new one, so the past is never
-- rewritten. Overrides put one person on call for a while. Escalation
-- policies page levels of targets (people, schedules, channels, webhooks)
-- one after the other until someone acknowledges. People say how they want
-- to be paged with contact methods; the outbox can now deliver to one of
-- those (a recipient) as well as to a channel.

CREATE TABLE oncall_schedules (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- IANA zone: handoffs and restrictions are wall-clock times here.
  timezone    text NOT NULL,
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX oncall_schedules_name_key ON oncall_schedules (tenant_id, lower(name));
SELECT pulse_enable_rls('oncall_schedules');

-- One row per version of a layer; layer_id is the layer across its versions.
CREATE TABLE oncall_layers (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  layer_id        uuid NOT NULL,
  tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  schedule_id     uuid NOT NULL REFERENCES oncall_schedules (id) ON DELETE CASCADE,
  -- Higher wins where layers overlap.
  position        integer NOT NULL CHECK (position BETWEEN 0 AND 1000),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  rotation        text NOT NULL CHECK (rotation IN ('daily', 'weekly', 'custom')),
  -- Custom rotations only: the shift length in hours.
  length_hours    integer CHECK (length_hours BETWEEN 1 AND 8760),
  handoff_time    text NOT NULL CHECK (handoff_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  handoff_weekday text CHECK (handoff_weekday IN ('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')),
  -- A local date: the first handoff is on it (weekly: the first handoff weekday on or after it).
  start_date      date NOT NULL,
  -- In rotation order.
  users           uuid[] NOT NULL,
  -- [{"days": ["MO",...], "start": "09:00", "end": "17:00"}]; empty: always.
  restrictions    jsonb NOT NULL DEFAULT '[]',
  effective_from  timestamptz NOT NULL,
  effective_until timestamptz,
  created_by      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (effective_until IS NULL OR effective_until >= effective_from),
  CHECK ((rotation = 'custom') = (length_hours IS NOT NULL)),
  CHECK ((rotation = 'weekly') = (handoff_weekday IS NOT NULL))
);
CREATE INDEX oncall_layers_schedule_idx ON oncall_layers (schedule_id, effective_from);
-- At most one current version per layer.
CREATE UNIQUE INDEX oncall_layers_current_key ON oncall_layers (layer_id) WHERE effective_until IS NULL;
SELECT pulse_enable_rls('oncall_layers');

CREATE TABLE oncall_overrides (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  schedule_id uuid NOT NULL REFERENCES oncall_schedules (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  note        text,
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);
CREATE INDEX oncall_overrides_schedule_idx ON oncall_overrides (schedule_id, ends_at);
SELECT pulse_enable_rls('oncall_overrides');

CREATE TABLE escalation_policies (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Run the whole policy again this many times while nobody acknowledges…
  repeat_count         integer NOT NULL DEFAULT 0 CHECK (repeat_count BETWEEN 0 AND 10),
  -- …starting again at level 1 this long after the last level.
  repeat_delay_minutes integer NOT NULL DEFAULT 15 CHECK (repeat_delay_minutes BETWEEN 0 AND 1440),
  -- For alerts whose rule names no policy.
  is_tenant_default    boolean NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX escalation_policies_name_key ON escalation_policies (tenant_id, lower(name));
CREATE UNIQUE INDEX escalation_policies_default_key ON escalation_policies (tenant_id) WHERE is_tenant_default;
SELECT pulse_enable_rls('escalation_policies');

CREATE TABLE escalation_levels (
  tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  policy_id     uuid NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
  position      integer NOT NULL CHECK (position BETWEEN 1 AND 5),
  -- Level 1: after the alert opened; later levels: after the previous level.
  delay_minutes integer NOT NULL CHECK (delay_minutes BETWEEN 0 AND 1440),
  -- [{"type": "user", "user_id"} | {"type": "schedule", "schedule_id"} | {"type": "channel", "channel_id"}
  --  | {"type": "webhook", "id", "display", "sealed"}] (a webhook's URL and signing secret encrypted)
  targets       jsonb NOT NULL,
  PRIMARY KEY (policy_id, position)
);
SELECT pulse_enable_rls('escalation_levels');

-- How a person in a tenant wants to be paged.
CREATE TABLE user_contact_methods (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('email', 'slack', 'teams', 'webhook')),
  -- The email address, or the URL without its path and query (for display); secrets hold the rest.
  address      text NOT NULL,
  -- Encrypted {"url", "secret"} for the URL kinds.
  secrets      text,
  min_severity text NOT NULL DEFAULT 'INFO' CHECK (min_severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_contact_methods_user_idx ON user_contact_methods (tenant_id, user_id);
SELECT pulse_enable_rls('user_contact_methods');

-- Escalation state of an alert: its policy, and how many times the policy has run again
-- (escalation_level and next_escalation_at are in 0005).
ALTER TABLE alerts ADD COLUMN escalation_policy_id uuid;
ALTER TABLE alerts ADD COLUMN escalation_repeats integer NOT NULL DEFAULT 0;
CREATE INDEX alerts_escalation_due_idx ON alerts (next_escalation_at) WHERE next_escalation_at IS NOT NULL;

-- A notification goes to a channel or to one person's contact method (a recipient:
-- {"kind", "address", "user_id", "username", "contact_method_id"}, its URL secrets sealed apart).
ALTER TABLE notification_outbox ALTER COLUMN channel_id DROP NOT NULL;
ALTER TABLE notification_outbox ADD COLUMN recipient jsonb;
ALTER TABLE notification_outbox ADD COLUMN recipient_secrets text;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_destination_check CHECK ((channel_id IS NULL) <> (recipient IS NULL));
