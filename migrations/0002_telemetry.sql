-- 0002: telemetry, one row per message. Any metric (number, boolean, short
-- string) lives in `metrics` and needs no schema change.
--
-- The migrator sets pulse.timescale = 'on' when TimescaleDB is available and
-- allowed by config: telemetry is then a hypertable (compression and retention
-- policies are applied at start from config). Otherwise it is a table
-- partitioned by day; the partition job creates days ahead and drops old ones,
-- and the default partition catches anything outside them so no insert fails.

DO $$
BEGIN
  IF current_setting('pulse.timescale', true) = 'on' THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    CREATE TABLE telemetry (
      time      timestamptz NOT NULL,
      tenant_id text NOT NULL,
      device_id text NOT NULL,
      metrics   jsonb NOT NULL
    );
    PERFORM create_hypertable('telemetry', 'time', chunk_time_interval => interval '1 day');
  ELSE
    CREATE TABLE telemetry (
      time      timestamptz NOT NULL,
      tenant_id text NOT NULL,
      device_id text NOT NULL,
      metrics   jsonb NOT NULL
    ) PARTITION BY RANGE (time);
    CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT;
  END IF;
END $$;

CREATE INDEX telemetry_device_time_idx ON telemetry (tenant_id, device_id, time DESC);
SELECT pulse_enable_rls('telemetry');
