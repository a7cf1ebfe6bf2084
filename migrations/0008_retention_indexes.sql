-- 0008: indexes for the retention job (src/retention). Each of its deletes
-- looks for rows older than a cut-off; without these it walked the table in id
-- order, and the last batch of every run (the one that finds nothing more)
-- read the whole table: device events, closed alerts and delivered
-- notifications grow with the fleet, so that was a daily full scan of each.
-- Partial where the job only ever wants some rows, to keep them small.
CREATE INDEX device_events_time_idx ON device_events (time);
CREATE INDEX alerts_closed_at_idx ON alerts (closed_at) WHERE status = 'CLOSED';
CREATE INDEX notification_outbox_delivered_idx ON notification_outbox (delivered_at) WHERE status = 'delivered';
CREATE INDEX notification_outbox_dead_idx ON notification_outbox (next_attempt_at) WHERE status = 'dead';
