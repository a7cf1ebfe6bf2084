// Checks shared by channel types.
import { invalid } from "../../lib/errors.ts";

export function checkUrl(v: unknown, field: string): string {
  if (typeof v !== "string" || v.length > 2000) throw invalid(field, `${field}: an http(s) URL`);
  try {
    const u = new URL(v);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error();
  } catch {
    throw invalid(field, `${field}: an http(s) URL`);
  }
  return v;
}

export function checkHeaders(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw invalid(field, `${field}: an object of header: value`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(k) || typeof val !== "string" || val.length > 2000 || /[\r\n]/.test(val)) throw invalid(`${field}.${k}`, `${field}.${k}: a header name and a one-line value`);
    if (/^(host|content-length|webhook-)/i.test(k)) throw invalid(`${field}.${k}`, `${field}.${k}: set by Pulse`);
    out[k] = val;
  }
  return out;
}
