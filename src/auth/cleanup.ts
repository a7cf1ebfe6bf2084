// Hourly housekeeping of identity data: expired sessions, codes, refresh
// tokens, signing keys past their publication, and stale throttle counters.
import { withSystem } from "../db/scope.ts";
import type { Auth } from "./index.ts";
import { deleteExpiredCodes, deleteExpiredRefreshTokens, deleteExpiredSigningKeys } from "./oidc/store.ts";
import { deleteExpiredSessions, deleteStaleThrottles } from "./sessions/store.ts";
import { LONGEST_WINDOW_MS } from "./throttle.ts";
import { deleteExpiredPasswordResets } from "./users/store.ts";

export async function cleanupAuth(auth: Pick<Auth, "db" | "clock">): Promise<void> {
  const now = auth.clock.now();
  // A day of grace keeps just-expired rows around for investigation.
  const dayAgo = new Date(now.getTime() - 86_400_000);
  await withSystem(auth.db, async (tx) => {
    await deleteExpiredSessions(tx, dayAgo);
    await deleteExpiredCodes(tx, dayAgo);
    await deleteExpiredRefreshTokens(tx, dayAgo);
    await deleteExpiredSigningKeys(tx, now);
    // Kept for the longest window (reset mails per account count over an hour), not login's 15 minutes.
    await deleteStaleThrottles(tx, new Date(now.getTime() - LONGEST_WINDOW_MS), now);
    await deleteExpiredPasswordResets(tx, dayAgo);
  });
}
