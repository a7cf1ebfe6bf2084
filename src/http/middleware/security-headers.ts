// Headers every response carries. The CSP allows only our own scripts and
// styles: islands are served from /assets, nothing inline, nothing remote.

import type { MiddlewareHandler } from "hono";

export function securityHeaders(opts: { https: boolean }): MiddlewareHandler {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
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
