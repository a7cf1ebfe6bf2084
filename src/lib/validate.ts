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
