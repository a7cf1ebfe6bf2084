// What the HTTP layer keeps per request on hono's context.
import type { Principal } from "../auth/principal.ts";
import type { Logger } from "../lib/logger.ts";

export interface HttpVariables {
  requestId: string;
  log: Logger;
  /** Client address (X-Forwarded-For only when http.trust_proxy). */
  ip: string;
  /** Who is signed in (session, access token or API key); unset for anonymous requests. */
  principal?: Principal;
  /** The session's CSRF token, for forms on pages. */
  csrf?: string;
}

export type HttpEnv = { Variables: HttpVariables };
