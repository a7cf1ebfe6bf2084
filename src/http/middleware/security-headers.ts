// Headers every response carries. The CSP allows only our own scripts and
// styles: islands are served from /assets, nothing inline, nothing remote.

import type { MiddlewareHandler } from "hono";

/**
 * The policy of every page. `formActions` widens form-action by a few origins:
 * the OpenID provider's sign-in and consent forms end in a redirect to the
 * client, and Chromium applies form-action to that redirect too.
 */
export function contentSecurityPolicy(formActions: string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    ["form-action 'self'", ...formActions].join(" "),
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(opts: { https: boolean }): MiddlewareHandler {
  const csp = contentSecurityPolicy();
  return async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    c.header("Cross-Origin-Opener-Policy", "same-origin");
    c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    if (!c.res.headers.has("Content-Security-Policy")) c.header("Content-Security-Policy", csp);
    if (opts.https) c.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  };
}
