// The drizzle mirror of migrations/*.sql, for typed queries. The SQL files are
// the truth; tests/db/schema.test.ts proves this file agrees with a migrated
// database. Timestamps use mode "date" everywhere (the drivers return Dates).

import { sql } from "drizzle-orm";
import { bigint, boolean, date, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

export const tenants = pgTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  status: text("status", { enum: ["ACTIVE", "SUSPENDED", "DELETED"] }).notNull().default("ACTIVE"),
  timezone: text("timezone").notNull().default("UTC"),
  createdAt: tstz("created_at").notNull().defaultNow(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
  suspendedAt: tstz("suspended_at"),
  deletedAt: tstz("deleted_at"),
  purgeAfter: tstz("purge_after"),
  heartbeatSeconds: integer("heartbeat_seconds").notNull().default(60),
  deviceLimit: integer("device_limit"),
});

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    username: text("username").notNull(),
    email: text("email"),
    name: text("name").notNull().default(""),
    passwordHash: text("password_hash"),
    platformRole: text("platform_role", { enum: ["operator", "operator-admin"] }),
    status: text("status", { enum: ["ACTIVE", "DISABLED"] }).notNull().default("ACTIVE"),
    mustChangePassword: boolean("must_change_password").notNull().default(false),
    createdAt: tstz("created_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
    passwordChangedAt: tstz("password_changed_at"),
    lastLoginAt: tstz("last_login_at"),
  },
  (t) => [uniqueIndex("users_username_key").on(sql`lower(${t.username})`), uniqueIndex("users_email_key").on(sql`lower(${t.email})`).where(sql`${t.email} is not null`)],
);

export const tenantMemberships = pgTable(
  "tenant_memberships",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["customer", "tenant-admin"] }).notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), index("tenant_memberships_user_idx").on(t.userId)],
);

export const telemetry = pgTable(
  "telemetry",
  {
    time: tstz("time").notNull(),
    tenantId: text("tenant_id").notNull(),
    deviceId: text("device_id").notNull(),
    metrics: jsonb("metrics").notNull().$type<Record<string, number | boolean | string>>(),
  },
  (t) => [index("telemetry_device_time_idx").on(t.tenantId, t.deviceId, t.time.desc())],
);

// 0003: identity (OpenID provider, sessions, API keys, invites, audit log).

export const signingKeys = pgTable("signing_keys", {
  kid: text("kid").primaryKey(),
  alg: text("alg").notNull().default("ES256"),
  privateJwk: text("private_jwk").notNull(),
  publicJwk: jsonb("public_jwk").notNull().$type<Record<string, unknown>>(),
  createdAt: tstz("created_at").notNull().defaultNow(),
  retiredAt: tstz("retired_at"),
  expiresAt: tstz("expires_at"),
});

export const oauthClients = pgTable(
  "oauth_clients",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    firstParty: boolean("first_party").notNull().default(false),
    secretHash: text("secret_hash"),
    redirectUris: text("redirect_uris").array().notNull().default(sql`'{}'`),
    postLogoutRedirectUris: text("post_logout_redirect_uris").array().notNull().default(sql`'{}'`),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [index("oauth_clients_tenant_idx").on(t.tenantId)],
);

export const oauthCodes = pgTable("oauth_codes", {
  codeHash: text("code_hash").primaryKey(),
  clientId: text("client_id").notNull().references(() => oauthClients.id, { onDelete: "cascade" }),
  userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  tenantId: text("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
  redirectUri: text("redirect_uri").notNull(),
  codeChallenge: text("code_challenge").notNull(),
  scope: text("scope").notNull(),
  nonce: text("nonce"),
  authTime: tstz("auth_time").notNull(),
  createdAt: tstz("created_at").notNull().defaultNow(),
  expiresAt: tstz("expires_at").notNull(),
  usedAt: tstz("used_at"),
  refreshFamily: uuid("refresh_family"),
});

export const oauthRefreshTokens = pgTable(
  "oauth_refresh_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tokenHash: text("token_hash").notNull().unique("oauth_refresh_tokens_token_hash_key"),
    familyId: uuid("family_id").notNull(),
    clientId: text("client_id").notNull().references(() => oauthClients.id, { onDelete: "cascade" }),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    scope: text("scope").notNull(),
    authTime: tstz("auth_time").notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    rotatedAt: tstz("rotated_at"),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [index("oauth_refresh_tokens_family_idx").on(t.familyId)],
);

export const oauthConsents = pgTable(
  "oauth_consents",
  {
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    clientId: text("client_id").notNull().references(() => oauthClients.id, { onDelete: "cascade" }),
    scope: text("scope").notNull(),
    grantedAt: tstz("granted_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.clientId] })],
);

export const sessions = pgTable(
  "sessions",
  {
    idHash: text("id_hash").primaryKey(),
    kind: text("kind", { enum: ["idp", "app"] }).notNull().default("app"),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").references(() => tenants.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    lastSeenAt: tstz("last_seen_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull().unique("api_keys_prefix_key"),
    secretHash: text("secret_hash").notNull(),
    role: text("role", { enum: ["customer", "tenant-admin"] }).notNull(),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at"),
    lastUsedAt: tstz("last_used_at"),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [index("api_keys_tenant_idx").on(t.tenantId)],
);

export const invites = pgTable(
  "invites",
  {
    tokenHash: text("token_hash").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ["customer", "tenant-admin"] }).notNull(),
    invitedBy: uuid("invited_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    acceptedAt: tstz("accepted_at"),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [index("invites_tenant_idx").on(t.tenantId)],
);

export const passwordResets = pgTable("password_resets", {
  tokenHash: text("token_hash").primaryKey(),
  userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: tstz("created_at").notNull().defaultNow(),
  expiresAt: tstz("expires_at").notNull(),
  usedAt: tstz("used_at"),
});

export const loginThrottle = pgTable("login_throttle", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull().default(0),
  windowStart: tstz("window_start").notNull().defaultNow(),
  lockedUntil: tstz("locked_until"),
});

export const identityProviders = pgTable(
  "identity_providers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    issuer: text("issuer").notNull(),
    clientId: text("client_id").notNull(),
    clientSecret: text("client_secret"),
    scopes: text("scopes").notNull().default("openid profile email"),
    mappings: jsonb("mappings").notNull().default([]).$type<Array<Record<string, string>>>(),
    defaultRole: text("default_role", { enum: ["customer", "tenant-admin"] }),
    jit: boolean("jit").notNull().default(true),
    enabled: boolean("enabled").notNull().default(true),
    createdAt: tstz("created_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("identity_providers_slug_key").on(t.slug)],
);

export const federatedIdentities = pgTable(
  "federated_identities",
  {
    providerId: uuid("provider_id").notNull().references(() => identityProviders.id, { onDelete: "cascade" }),
    subject: text("subject").notNull(),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    lastLoginAt: tstz("last_login_at"),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.subject] })],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    time: tstz("time").notNull().defaultNow(),
    tenantId: text("tenant_id"),
    actorKind: text("actor_kind").notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name").notNull(),
    action: text("action").notNull(),
    targetKind: text("target_kind"),
    targetId: text("target_id"),
    ip: text("ip"),
    requestId: text("request_id"),
    details: jsonb("details").notNull().default({}).$type<Record<string, unknown>>(),
  },
  (t) => [index("audit_log_tenant_time_idx").on(t.tenantId, t.time.desc()), index("audit_log_time_idx").on(t.time.desc())],
);

// 0004: devices

export const sites = pgTable(
  "sites",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    name: text("name").notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    lat: doublePrecision("lat"),
    lng: doublePrecision("lng"),
    address: text("address"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

export const devices = pgTable(
  "devices",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    name: text("name").notNull().default(""),
    siteId: text("site_id").notNull(),
    status: text("status", { enum: ["ACTIVE", "PENDING", "REVOKED"] }).notNull().default("ACTIVE"),
    tags: jsonb("tags").notNull().default({}).$type<Record<string, string>>(),
    heartbeatSeconds: integer("heartbeat_seconds"),
    parentDeviceId: text("parent_device_id"),
    model: text("model"),
    serial: text("serial"),
    lat: doublePrecision("lat"),
    lng: doublePrecision("lng"),
    metadata: jsonb("metadata").notNull().default({}),
    createdAt: tstz("created_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
    decommissionedAt: tstz("decommissioned_at"),
    decommissionedBy: text("decommissioned_by"),
    decommissionReason: text("decommission_reason"),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

export const deviceTokens = pgTable("device_tokens", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: text("tenant_id").notNull(),
  deviceId: text("device_id").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: tstz("created_at").notNull().defaultNow(),
  expiresAt: tstz("expires_at"),
  revokedAt: tstz("revoked_at"),
  lastUsedAt: tstz("last_used_at"),
});

export const activationCodes = pgTable("activation_codes", {
  codeHash: text("code_hash").primaryKey(),
  tenantId: text("tenant_id").notNull(),
  deviceId: text("device_id").notNull(),
  createdAt: tstz("created_at").notNull().defaultNow(),
  expiresAt: tstz("expires_at").notNull(),
  usedAt: tstz("used_at"),
});

export const deviceState = pgTable(
  "device_state",
  {
    tenantId: text("tenant_id").notNull(),
    deviceId: text("device_id").notNull(),
    lastSeenAt: tstz("last_seen_at"),
    lastTelemetryAt: tstz("last_telemetry_at"),
    lastHeartbeatAt: tstz("last_heartbeat_at"),
    connectivity: text("connectivity", { enum: ["ONLINE", "STALE", "OFFLINE"] }).notNull().default("OFFLINE"),
    connectivitySince: tstz("connectivity_since").notNull().defaultNow(),
    lastMetrics: jsonb("last_metrics").notNull().default({}).$type<Record<string, number | boolean | string>>(),
    lastSeq: bigint("last_seq", { mode: "number" }),
    seqGaps: bigint("seq_gaps", { mode: "number" }).notNull().default(0),
    messages: bigint("messages", { mode: "number" }).notNull().default(0),
    lat: doublePrecision("lat"),
    lng: doublePrecision("lng"),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.deviceId] })],
);

export const deviceEvents = pgTable("device_events", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  tenantId: text("tenant_id").notNull(),
  deviceId: text("device_id").notNull(),
  time: tstz("time").notNull().defaultNow(),
  kind: text("kind").notNull(),
  details: jsonb("details").notNull().default({}),
});

export const quarantine = pgTable("quarantine", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  tenantId: text("tenant_id"),
  deviceId: text("device_id"),
  time: tstz("time").notNull().defaultNow(),
  reason: text("reason").notNull(),
  transport: text("transport").notNull(),
  topic: text("topic"),
  detail: text("detail"),
  payload: text("payload"),
});

export const rejectionCounts = pgTable(
  "rejection_counts",
  {
    tenantId: text("tenant_id").notNull(),
    reason: text("reason").notNull(),
    count: bigint("count", { mode: "number" }).notNull().default(0),
    lastAt: tstz("last_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.reason] })],
);

export const metricCatalog = pgTable(
  "metric_catalog",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["number", "boolean", "string"] }).notNull(),
    unit: text("unit"),
    displayName: text("display_name"),
    multiplier: doublePrecision("multiplier"),
    offset: doublePrecision("offset"),
    normalizedUnit: text("normalized_unit"),
    firstSeenAt: tstz("first_seen_at").notNull().defaultNow(),
    lastSeenAt: tstz("last_seen_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
);

// 0005: alerting

export const alertRules = pgTable("alert_rules", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  ruleType: text("rule_type", { enum: ["THRESHOLD"] }).notNull().default("THRESHOLD"),
  metricName: text("metric_name").notNull(),
  normalized: boolean("normalized").notNull().default(false),
  operator: text("operator", { enum: ["GT", "GTE", "LT", "LTE", "EQ", "NEQ"] }).notNull(),
  threshold: jsonb("threshold").notNull().$type<number | boolean | string>(),
  clearThreshold: doublePrecision("clear_threshold"),
  durationSeconds: integer("duration_seconds").notNull().default(0),
  severity: text("severity", { enum: ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"] }).notNull(),
  scope: jsonb("scope").notNull().default({}),
  enabled: boolean("enabled").notNull().default(true),
  autoClose: boolean("auto_close").notNull().default(true),
  reopenWindowSeconds: integer("reopen_window_seconds").notNull().default(3600),
  escalationPolicyId: uuid("escalation_policy_id"),
  createdBy: text("created_by"),
  createdAt: tstz("created_at").notNull().defaultNow(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

export const heartbeatRules = pgTable("heartbeat_rules", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  scope: jsonb("scope").notNull().default({}),
  graceSeconds: integer("grace_seconds").notNull().default(0),
  severity: text("severity", { enum: ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"] }).notNull().default("HIGH"),
  enabled: boolean("enabled").notNull().default(true),
  autoClose: boolean("auto_close").notNull().default(true),
  escalationPolicyId: uuid("escalation_policy_id"),
  createdAt: tstz("created_at").notNull().defaultNow(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

export const ruleState = pgTable(
  "rule_state",
  {
    tenantId: text("tenant_id").notNull(),
    ruleId: uuid("rule_id").notNull().references(() => alertRules.id, { onDelete: "cascade" }),
    deviceId: text("device_id").notNull(),
    pendingSince: tstz("pending_since"),
    firing: boolean("firing").notNull().default(false),
    lastValue: jsonb("last_value"),
    lastAt: tstz("last_at"),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.deviceId] })],
);

export const alerts = pgTable("alerts", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
  fingerprint: text("fingerprint").notNull(),
  alertType: text("alert_type", { enum: ["THRESHOLD", "NO_HEARTBEAT"] }).notNull(),
  ruleId: uuid("rule_id"),
  deviceId: text("device_id").notNull(),
  siteId: text("site_id"),
  severity: text("severity", { enum: ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"] }).notNull(),
  status: text("status", { enum: ["OPEN", "ACKNOWLEDGED", "CLOSED"] }).notNull().default("OPEN"),
  summary: text("summary").notNull(),
  metricName: text("metric_name"),
  lastValue: jsonb("last_value"),
  triggerCount: integer("trigger_count").notNull().default(1),
  openedAt: tstz("opened_at").notNull().defaultNow(),
  lastTriggeredAt: tstz("last_triggered_at").notNull().defaultNow(),
  acknowledgedAt: tstz("acknowledged_at"),
  acknowledgedBy: text("acknowledged_by"),
  closedAt: tstz("closed_at"),
  closedBy: text("closed_by"),
  closeReason: text("close_reason"),
  silencedUntil: tstz("silenced_until"),
  suppressed: boolean("suppressed").notNull().default(false),
  escalationLevel: integer("escalation_level").notNull().default(0),
  nextEscalationAt: tstz("next_escalation_at"),
  // 0008
  escalationPolicyId: uuid("escalation_policy_id"),
  escalationRepeats: integer("escalation_repeats").notNull().default(0),
});

export const alertEvents = pgTable("alert_events", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  tenantId: text("tenant_id").notNull(),
  alertId: uuid("alert_id").notNull().references(() => alerts.id, { onDelete: "cascade" }),
  time: tstz("time").notNull().defaultNow(),
  kind: text("kind").notNull(),
  actorKind: text("actor_kind").notNull().default("system"),
  actorName: text("actor_name").notNull().default("system"),
  value: jsonb("value"),
  details: jsonb("details").notNull().default({}),
});

export const maintenanceWindows = pgTable("maintenance_windows", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  scope: jsonb("scope").notNull().default({}),
  startsAt: tstz("starts_at").notNull(),
  endsAt: tstz("ends_at"),
  recurrence: jsonb("recurrence"),
  createdBy: text("created_by"),
  createdAt: tstz("created_at").notNull().defaultNow(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

// 0006: notifications

export const notificationChannels = pgTable("notification_channels", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  type: text("type", { enum: ["webhook", "http", "slack", "pagerduty", "teams", "email", "snmp", "mqtt"] }).notNull(),
  config: jsonb("config").notNull().default({}),
  secrets: text("secrets"),
  enabled: boolean("enabled").notNull().default(true),
  disabledReason: text("disabled_reason"),
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  circuitOpenUntil: tstz("circuit_open_until"),
  createdAt: tstz("created_at").notNull().defaultNow(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

export const notificationRoutes = pgTable("notification_routes", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
  channelId: uuid("channel_id").notNull().references(() => notificationChannels.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  minSeverity: text("min_severity", { enum: ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"] }).notNull().default("INFO"),
  alertTypes: text("alert_types").array().notNull().default(sql`'{}'`),
  scope: jsonb("scope").notNull().default({}),
  transitions: text("transitions").array().notNull().default(sql`'{triggered,resolved}'`),
  throttleSeconds: integer("throttle_seconds").notNull().default(0),
  activeHours: jsonb("active_hours"),
  enabled: boolean("enabled").notNull().default(true),
  createdAt: tstz("created_at").notNull().defaultNow(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

export const notificationOutbox = pgTable("notification_outbox", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  tenantId: text("tenant_id").notNull(),
  // 0008: null when the notification goes to a person's contact method (recipient).
  channelId: uuid("channel_id").references(() => notificationChannels.id, { onDelete: "cascade" }),
  alertId: uuid("alert_id"),
  event: text("event").notNull(),
  idempotencyKey: text("idempotency_key").notNull(),
  payload: jsonb("payload").notNull(),
  status: text("status", { enum: ["pending", "delivered", "dead"] }).notNull().default("pending"),
  attempts: integer("attempts").notNull().default(0),
  nextAttemptAt: tstz("next_attempt_at").notNull().defaultNow(),
  leasedUntil: tstz("leased_until"),
  lastError: text("last_error"),
  createdAt: tstz("created_at").notNull().defaultNow(),
  deliveredAt: tstz("delivered_at"),
  giveUpAt: tstz("give_up_at").notNull(),
  recipient: jsonb("recipient").$type<Record<string, unknown>>(),
  recipientSecrets: text("recipient_secrets"),
});

export const notificationAttempts = pgTable("notification_attempts", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  tenantId: text("tenant_id").notNull(),
  outboxId: bigint("outbox_id", { mode: "number" }).notNull().references(() => notificationOutbox.id, { onDelete: "cascade" }),
  time: tstz("time").notNull().defaultNow(),
  ok: boolean("ok").notNull(),
  statusCode: integer("status_code"),
  latencyMs: integer("latency_ms").notNull(),
  response: text("response"),
  error: text("error"),
});

export const notificationThrottle = pgTable(
  "notification_throttle",
  {
    tenantId: text("tenant_id").notNull(),
    channelId: uuid("channel_id").notNull().references(() => notificationChannels.id, { onDelete: "cascade" }),
    fingerprint: text("fingerprint").notNull(),
    lastAt: tstz("last_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.fingerprint] })],
);

// 0008: on-call schedules and escalation

export const oncallSchedules = pgTable(
  "oncall_schedules",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    timezone: text("timezone").notNull(),
    createdBy: text("created_by"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("oncall_schedules_name_key").on(t.tenantId, sql`lower(${t.name})`)],
);

export const oncallLayers = pgTable(
  "oncall_layers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    layerId: uuid("layer_id").notNull(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    scheduleId: uuid("schedule_id").notNull().references(() => oncallSchedules.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    rotation: text("rotation", { enum: ["daily", "weekly", "custom"] }).notNull(),
    lengthHours: integer("length_hours"),
    handoffTime: text("handoff_time").notNull(),
    handoffWeekday: text("handoff_weekday", { enum: ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] }),
    startDate: date("start_date", { mode: "string" }).notNull(),
    users: uuid("users").array().notNull(),
    restrictions: jsonb("restrictions").notNull().default([]),
    effectiveFrom: tstz("effective_from").notNull(),
    effectiveUntil: tstz("effective_until"),
    createdBy: text("created_by"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [index("oncall_layers_schedule_idx").on(t.scheduleId, t.effectiveFrom), uniqueIndex("oncall_layers_current_key").on(t.layerId).where(sql`${t.effectiveUntil} is null`)],
);

export const oncallOverrides = pgTable(
  "oncall_overrides",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    scheduleId: uuid("schedule_id").notNull().references(() => oncallSchedules.id, { onDelete: "cascade" }),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    startsAt: tstz("starts_at").notNull(),
    endsAt: tstz("ends_at").notNull(),
    note: text("note"),
    createdBy: text("created_by"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [index("oncall_overrides_schedule_idx").on(t.scheduleId, t.endsAt)],
);

export const escalationPolicies = pgTable(
  "escalation_policies",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    repeatCount: integer("repeat_count").notNull().default(0),
    repeatDelayMinutes: integer("repeat_delay_minutes").notNull().default(15),
    isTenantDefault: boolean("is_tenant_default").notNull().default(false),
    createdAt: tstz("created_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("escalation_policies_name_key").on(t.tenantId, sql`lower(${t.name})`), uniqueIndex("escalation_policies_default_key").on(t.tenantId).where(sql`${t.isTenantDefault}`)],
);

export const escalationLevels = pgTable(
  "escalation_levels",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    policyId: uuid("policy_id").notNull().references(() => escalationPolicies.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    delayMinutes: integer("delay_minutes").notNull(),
    targets: jsonb("targets").notNull().$type<Array<Record<string, unknown>>>(),
  },
  (t) => [primaryKey({ columns: [t.policyId, t.position] })],
);

export const userContactMethods = pgTable(
  "user_contact_methods",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["email", "slack", "teams", "webhook"] }).notNull(),
    address: text("address").notNull(),
    secrets: text("secrets"),
    minSeverity: text("min_severity", { enum: ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"] }).notNull().default("INFO"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("user_contact_methods_user_idx").on(t.tenantId, t.userId)],
);
