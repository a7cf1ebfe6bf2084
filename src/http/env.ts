// What the HTTP layer keeps per request on hono's context.
import type { Logger } from "../lib/logger.ts";

export interface HttpVariables {
  requestId: string;
  log: Logger;
  /** Client address (X-Forwarded-For only when http.trust_proxy). */
  ip: string;
}

export type HttpEnv = { Variables: HttpVariables };
