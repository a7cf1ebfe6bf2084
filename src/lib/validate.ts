// Small validators shared by services (the HTTP layer validates shapes with
// zod; services re-check the rules so the CLI and workers get them too).

import { invalid } from "./errors.ts";
import { isSlug } from "./ids.ts";

export function requireSlug(field: string, v: unknown): string {
  if (!isSlug(v)) throw invalid(field, `${field}: must be 1–64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return v;
}

export function requireText(field: string, v: unknown, max = 200): string {
  if (typeof v !== "string" || v.trim().length === 0) throw invalid(field, `${field}: must not be empty`);
  if (v.length > max) throw invalid(field, `${field}: must be at most ${max} characters`);
  return v.trim();
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}

export function requireTimeZone(field: string, v: unknown): string {
  if (typeof v !== "string" || !isTimeZone(v)) throw invalid(field, `${field}: must be an IANA time zone such as Europe/Berlin or UTC`);
  return v;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/;

export function requireEmail(field: string, v: unknown): string {
  if (typeof v !== "string" || !EMAIL.test(v.trim())) throw invalid(field, `${field}: must be an email address`);
  return v.trim().toLowerCase();
}

/** A finite number in [min, max], or null when absent (undefined, null or ""). Numeric strings are accepted (CSV, forms). */
export function optionalNumber(field: string, v: unknown, min: number, max: number): number | null {
  if (v === undefined || v === null || v === "") return null;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw invalid(field, `${field}: must be a number from ${min} to ${max}`);
  return n;
}

/** Latitude and longitude: both or neither. */
export function optionalLatLng(lat: unknown, lng: unknown): { lat: number | null; lng: number | null } {
  const la = optionalNumber("lat", lat, -90, 90);
  const ln = optionalNumber("lng", lng, -180, 180);
  if ((la === null) !== (ln === null)) throw invalid(la === null ? "lat" : "lng", `${la === null ? "lat" : "lng"}: lat and lng go together; give both or neither`);
  return { lat: la, lng: ln };
}

/** Trimmed text of at most max characters, or null when absent or blank. */
export function optionalText(field: string, v: unknown, max = 200): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw invalid(field, `${field}: must be text`);
  const s = v.trim();
  if (s.length > max) throw invalid(field, `${field}: must be at most ${max} characters`);
  return s === "" ? null : s;
}
