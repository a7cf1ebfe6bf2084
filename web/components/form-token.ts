// The double-submit form token of pages that run without (or before) an app
// session: the provider's sign-in and consent forms, sign-out, invites and
// password resets. A random value lives in a cookie and in a hidden `_form`
// field; a POST is accepted only when the two agree, which a cross-site page
// cannot arrange (it can neither read nor set our cookie).

import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { CookieNames } from "../../src/auth/index.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { randomSecret } from "../../src/lib/ids.ts";

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The token to put in the form's `_form` field; sets the cookie when there is none yet. */
export async function formToken(c: Context<HttpEnv>, cookies: Pick<CookieNames, "formCsrf" | "secure">): Promise<string> {
  let token = getCookie(c, cookies.formCsrf);
  if (!token || !TOKEN.test(token)) {
    token = randomSecret(32);
    setCookie(c, cookies.formCsrf, token, { path: "/", httpOnly: true, secure: cookies.secure, sameSite: "Lax", maxAge: 3600 });
  }
  return token;
}

/** Whether a posted form carries the token of this browser's cookie. */
export async function formCsrfOk(c: Context<HttpEnv>, cookies: Pick<CookieNames, "formCsrf">, form: Record<string, string | undefined>): Promise<boolean> {
  const cookieToken = getCookie(c, cookies.formCsrf);
  return !!cookieToken && form._form === cookieToken;
}

/** A posted form's string fields (files are ignored). */
export async function formFields(c: Context<HttpEnv>): Promise<Record<string, string | undefined>> {
  const body = await c.req.parseBody();
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}
