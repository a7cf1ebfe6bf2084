// Status and severity look the same everywhere: the same word, the same icon
// shape and the same colour token (app.css), so nobody has to tell green from
// red to read them.

import { html, type VNode } from "../render.ts";
import { Icon, type IconName } from "./icons.ts";

export const STATUSES = ["ONLINE", "STALE", "OFFLINE"] as const;
export type DeviceStatus = (typeof STATUSES)[number];

export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"] as const;
export type Severity = (typeof SEVERITIES)[number];

const STATUS_ICON: Record<DeviceStatus, IconName> = { ONLINE: "online", STALE: "stale", OFFLINE: "offline" };
const SEVERITY_ICON: Record<Severity, IconName> = { CRITICAL: "critical", HIGH: "high", MEDIUM: "medium", LOW: "low", INFO: "info" };

/** ONLINE / STALE / OFFLINE with its icon and colour; `title` adds detail on hover ("last seen 4 min ago"). */
export function StatusBadge(p: { status: DeviceStatus; title?: string }): VNode {
  const s = p.status;
  return html`<span class=${`badge status-${s.toLowerCase()}`} data-status=${s} title=${p.title}>${Icon({ name: STATUS_ICON[s] })}${s}</span>`;
}

/** CRITICAL / HIGH / MEDIUM / LOW / INFO with its icon and colour. */
export function SeverityBadge(p: { severity: Severity; title?: string }): VNode {
  const s = p.severity;
  return html`<span class=${`badge sev-${s.toLowerCase()}`} data-severity=${s} title=${p.title}>${Icon({ name: SEVERITY_ICON[s] })}${s}</span>`;
}

export type Tone = "ok" | "warn" | "bad" | "idle" | "accent";

/** Any other state word (ACTIVE, SUSPENDED, DISABLED…) in one of the shared tones. */
export function Badge(p: { tone: Tone; text: string; icon?: IconName; title?: string }): VNode {
  return html`<span class=${`badge tone-${p.tone}`} title=${p.title}>${p.icon ? Icon({ name: p.icon }) : null}${p.text}</span>`;
}
