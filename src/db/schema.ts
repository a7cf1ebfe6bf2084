// The drizzle mirror of migrations/*.sql, for typed queries. The SQL files are
// the truth; tests/db/schema.test.ts proves this file agrees with a migrated
// database. Timestamps use mode "date" everywhere (the drivers return Dates).

import { sql } from "drizzle-orm";
import { boolean, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

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
  (t) => [uniqueIndex("users_username_key").on(sql`lower(${t.username})`), uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
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
