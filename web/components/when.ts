// Wall-clock values for date and time inputs in a zone (the tenant's, or a
// maintenance window's own), the inverse of format.ts's zonedTimeToDate.

import { localParts } from "../../src/lib/zoned.ts";

const p2 = (n: number) => String(n).padStart(2, "0");

/** "2025-11-27T09:16" in the zone, for a datetime-local input's value. */
export function localInputValue(t: Date, zone: string): string {
  const l = localParts(t.getTime(), zone);
  return `${l.year}-${p2(l.month)}-${p2(l.day)}T${p2(l.hour)}:${p2(l.minute)}`;
}

/** "2025-11-27" in the zone, for a date input's value. */
export function localDateValue(t: Date, zone: string): string {
  const l = localParts(t.getTime(), zone);
  return `${l.year}-${p2(l.month)}-${p2(l.day)}`;
}

/** Every IANA zone the runtime knows, UTC first, for a time zone select. */
export function timeZoneChoices(): string[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return ["UTC", ...zones.filter((z) => z !== "UTC")];
}
