// Which routes an alert change goes to, pure: the transition must be one the
// route wants, the alert severe enough and of a wanted type, in its sites or
// tags, inside its active hours; suppressed (maintenance) and silenced
// alerts are never routed.

import { SEVERITY_RANK, type Severity } from "../alerts/evaluate.ts";
import type { TransitionKind } from "../alerts/lifecycle.ts";
import type { AlertRow } from "../alerts/store.ts";
import { localParts } from "../lib/zoned.ts";
import type { RouteRow } from "./store.ts";

export type RoutedEvent = "triggered" | "acknowledged" | "resolved";
export const ROUTED_EVENTS: readonly RoutedEvent[] = ["triggered", "acknowledged", "resolved"];

/** What a transition is called on the wire; undefined for changes nobody is notified about. */
export function routedEvent(kind: TransitionKind): RoutedEvent | undefined {
  if (kind === "triggered" || kind === "reopened") return "triggered";
  if (kind === "acknowledged") return "acknowledged";
  if (kind === "resolved" || kind === "closed") return "resolved";
  return undefined;
}

const DAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];

export function withinActiveHours(h: RouteRow["active_hours"], at: number): boolean {
  if (!h) return true;
  const l = localParts(at, h.timezone);
  const minutes = l.hour * 60 + l.minute;
  const [sh, sm] = h.start.split(":").map(Number) as [number, number];
  const [eh, em] = h.end.split(":").map(Number) as [number, number];
  const start = sh * 60 + sm;
  const end = eh * 60 + em;
  // A span past midnight (22:00–06:00) belongs to the day it started.
  const inSpan = start <= end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  if (!inSpan) return false;
  if (!h.days?.length) return true;
  const day = start > end && minutes < end ? (l.weekday + 6) % 7 : l.weekday;
  return h.days.includes(DAYS[day]!);
}

export function routeMatches(
  route: Pick<RouteRow, "enabled" | "min_severity" | "alert_types" | "scope" | "transitions" | "active_hours">,
  alert: Pick<AlertRow, "severity" | "alert_type" | "site_id" | "suppressed" | "silenced_until">,
  event: RoutedEvent,
  device: { tags: Record<string, string> } | undefined,
  at: number,
): boolean {
  if (!route.enabled || alert.suppressed) return false;
  if (alert.silenced_until && alert.silenced_until.getTime() > at) return false;
  if (!route.transitions.includes(event)) return false;
  if (SEVERITY_RANK[alert.severity as Severity] > SEVERITY_RANK[route.min_severity]) return false;
  if (route.alert_types.length && !route.alert_types.includes(alert.alert_type)) return false;
  if (route.scope.sites?.length && !(alert.site_id && route.scope.sites.includes(alert.site_id))) return false;
  if (route.scope.tags) for (const [k, v] of Object.entries(route.scope.tags)) if (device?.tags[k] !== v) return false;
  return withinActiveHours(route.active_hours, at);
}
