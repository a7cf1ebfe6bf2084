-- 0009: one alert's notifications to one channel are delivered in order; the
-- outbox claim looks for an earlier pending row of the same alert and channel
-- (src/notify/store.ts claimDue). This keeps that look-up to an index probe.
CREATE INDEX notification_outbox_alert_pending_idx ON notification_outbox (alert_id, channel_id, id) WHERE status = 'pending';
