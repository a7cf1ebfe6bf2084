// Which database errors are worth trying again: the connection went away
// (Postgres restarted or failed over, a backend was terminated, a socket was
// reset) or the server gave up on the transaction for a reason that passes
// (serialization failure, deadlock). Anything else — a constraint, a bad
// value, a statement timeout — would fail the same way again.

/** Error codes of the Postgres client (postgres.js) and of the socket for a connection that is gone. */
const CLIENT_CODES = new Set(["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "ECONNRESET", "ECONNREFUSED", "EPIPE"]);
/** SQLSTATEs: admin/crash shutdown, cannot connect now, serialization failure, deadlock. */
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "40001", "40P01"]);

/** True when running the same transaction again may well succeed (nothing of a failed one committed). */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  // Class 08: connection exception.
  return CLIENT_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
}
