// The rules for a device's fields, shared by the service (API, CLI,
// provisioning) and the CSV import, so every way in refuses the same things
// with the same field names. Pure: no database.

import { invalid } from "../lib/errors.ts";
import { optionalLatLng, optionalText, requireSlug, requireText } from "../lib/validate.ts";

export const HEARTBEAT_MIN = 5;
export const HEARTBEAT_MAX = 86_400;
export const MAX_TAGS = 32;
export const TAG_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,63}$/;
export const MAX_TAG_VALUE = 200;
export const MAX_METADATA_BYTES = 8_192;

export type Tags = Record<string, string>;

/** Tags: an object of at most 32 keys (letters, digits, _ . : / -) to short strings. */
export function parseTags(field: string, v: unknown): Tags {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw invalid(field, `${field}: must be an object of key/value strings`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_TAGS) throw invalid(field, `${field}: at most ${MAX_TAGS} tags`);
  const out: Tags = {};
  for (const [k, raw] of entries) {
    if (!TAG_KEY.test(k)) throw invalid(`${field}.${k}`, `${field}: key ${JSON.stringify(k.slice(0, 70))} must be 1–64 letters, digits, '_', '.', ':', '/' or '-'`);
    const value = typeof raw === "number" || typeof raw === "boolean" ? String(raw) : raw;
    if (typeof value !== "string") throw invalid(`${field}.${k}`, `${field}.${k}: the value must be a string`);
    if (value.length > MAX_TAG_VALUE) throw invalid(`${field}.${k}`, `${field}.${k}: the value must be at most ${MAX_TAG_VALUE} characters`);
    out[k] = value.trim();
  }
  return out;
}

/** "k=v;k2=v2" (CSV cells, CLI --tag) into tags; a key without "=" has the empty value. */
export function parseTagString(field: string, s: string): Tags {
  const obj: Record<string, string> = {};
  for (const part of s.split(";")) {
    if (part.trim() === "") continue;
    const i = part.indexOf("=");
    const k = (i < 0 ? part : part.slice(0, i)).trim();
    if (k in obj) throw invalid(field, `${field}: tag ${k} appears twice`);
    obj[k] = i < 0 ? "" : part.slice(i + 1).trim();
  }
  return parseTags(field, obj);
}

/** Seconds between heartbeats, or null for the tenant default. Numeric strings are accepted. */
export function parseHeartbeat(field: string, v: unknown): number | null {
  if (v === undefined || v === null || v === "") return null;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < HEARTBEAT_MIN || n > HEARTBEAT_MAX) throw invalid(field, `${field}: a whole number of seconds from ${HEARTBEAT_MIN} to ${HEARTBEAT_MAX}`);
  return n;
}

export function parseMetadata(field: string, v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw invalid(field, `${field}: must be a JSON object`);
  if (Buffer.byteLength(JSON.stringify(v)) > MAX_METADATA_BYTES) throw invalid(field, `${field}: at most ${MAX_METADATA_BYTES} bytes of JSON`);
  return v as Record<string, unknown>;
}

export function parseOptionalSlug(field: string, v: unknown): string | null {
  if (v === undefined || v === null || v === "") return null;
  return requireSlug(field, v);
}

/** The fields of a new device, checked; site and parent existence are the service's to check. */
export interface DeviceFields {
  id: string;
  name: string;
  siteId: string;
  tags: Tags;
  heartbeatSeconds: number | null;
  parentDeviceId: string | null;
  model: string | null;
  serial: string | null;
  lat: number | null;
  lng: number | null;
  metadata: Record<string, unknown>;
}

export interface DeviceInput {
  id?: unknown;
  name?: unknown;
  site_id?: unknown;
  tags?: unknown;
  heartbeat_seconds?: unknown;
  parent_device_id?: unknown;
  model?: unknown;
  serial?: unknown;
  lat?: unknown;
  lng?: unknown;
  metadata?: unknown;
}

/** Check every field of a new device; the first problem is thrown naming its field. */
export function checkNewDevice(input: DeviceInput): DeviceFields {
  const id = requireSlug("id", input.id);
  const siteId = requireSlug("site_id", input.site_id);
  const name = input.name === undefined || input.name === null || input.name === "" ? id : requireText("name", input.name);
  const parentDeviceId = parseOptionalSlug("parent_device_id", input.parent_device_id);
  if (parentDeviceId === id) throw invalid("parent_device_id", "parent_device_id: a device cannot be its own parent");
  const { lat, lng } = optionalLatLng(input.lat, input.lng);
  return {
    id,
    name,
    siteId,
    tags: parseTags("tags", input.tags),
    heartbeatSeconds: parseHeartbeat("heartbeat_seconds", input.heartbeat_seconds),
    parentDeviceId,
    model: optionalText("model", input.model),
    serial: optionalText("serial", input.serial),
    lat,
    lng,
    metadata: parseMetadata("metadata", input.metadata),
  };
}
