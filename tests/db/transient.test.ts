// Which database failures an alert transaction runs again: a connection that
// went away, or a transaction the server gave up on for a passing reason.
// Anything that would fail the same way again is not retried.

import { describe, expect, test } from "bun:test";
import { isTransientDbError } from "../../src/db/transient.ts";

const withCode = (code: unknown) => Object.assign(new Error(`failed (${String(code)})`), { code });

describe("transient database errors", () => {
  test("a lost connection is worth another try, whoever noticed it", () => {
    // The client's and the socket's words for it…
    for (const code of ["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "ECONNRESET", "ECONNREFUSED", "EPIPE"]) expect({ code, retry: isTransientDbError(withCode(code)) }).toEqual({ code, retry: true });
    // …and the server's: class 08, a terminated backend or a server shutting down or starting.
    for (const code of ["08000", "08003", "08006", "08P01", "57P01", "57P02", "57P03"]) expect({ code, retry: isTransientDbError(withCode(code)) }).toEqual({ code, retry: true });
  });

  test("a serialization failure or a deadlock passes; a second try may well commit", () => {
    expect(isTransientDbError(withCode("40001"))).toBe(true);
    expect(isTransientDbError(withCode("40P01"))).toBe(true);
  });

  test("what would fail the same way again is not retried", () => {
    // Unique and foreign-key violations, a missing table, a bad value, a statement timeout, an aborted transaction.
    for (const code of ["23505", "23503", "42P01", "22P02", "57014", "25P02"]) expect({ code, retry: isTransientDbError(withCode(code)) }).toEqual({ code, retry: false });
  });

  test("an error without a code, or not an error at all, is not retried", () => {
    expect(isTransientDbError(new Error("alerts: the alert writer thread stopped"))).toBe(false);
    expect(isTransientDbError(withCode(8006))).toBe(false);
    expect(isTransientDbError(null)).toBe(false);
    expect(isTransientDbError(undefined)).toBe(false);
    expect(isTransientDbError("ECONNRESET")).toBe(false);
  });
});
