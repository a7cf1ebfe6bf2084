// A scripted browser without a browser: follows Pulse's sign-in flow over
// HTTP with a cookie jar, so API and page tests can act as a signed-in person.

export interface Agent {
  /** fetch relative to the server, sending and keeping cookies; redirects are not followed. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** fetch with the session's CSRF token, for changes. */
  send(path: string, init?: RequestInit): Promise<Response>;
  cookies: Map<string, string>;
  csrf(): Promise<string>;
}

export function agent(baseUrl: string): Agent {
  // Cookies are kept per host name, as browsers do (not per port).
  const jars = new Map<string, Map<string, string>>();
  const jar = (host: string) => jars.get(host) ?? (jars.set(host, new Map()), jars.get(host)!);
  const cookies = jar(new URL(baseUrl).hostname);
  let csrf: string | undefined;
  const a: Agent = {
    cookies,
    async fetch(path, init = {}) {
      const url = path.startsWith("http") ? path : baseUrl + path;
      const cookies = jar(new URL(url).hostname);
      const headers = new Headers(init.headers);
      if (cookies.size) headers.set("cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
      const res = await fetch(url, { ...init, headers, redirect: "manual" });
      for (const line of res.headers.getSetCookie()) {
        const [pair, ...attrs] = line.split(";");
        const i = pair!.indexOf("=");
        const name = pair!.slice(0, i).trim();
        const value = pair!.slice(i + 1).trim();
        const expired = attrs.some((x) => /max-age=0/i.test(x) || /expires=Thu, 01 Jan 1970/i.test(x));
        if (expired || value === "") cookies.delete(name);
        else cookies.set(name, value);
      }
      return res;
    },
    async csrf() {
      if (!csrf) {
        const me = (await (await a.fetch("/api/v1/me")).json()) as { csrf_token?: string };
        if (!me.csrf_token) throw new Error("agent: no session (csrf_token missing)");
        csrf = me.csrf_token;
      }
      return csrf;
    },
    async send(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set("x-csrf-token", await a.csrf());
      if (typeof init.body === "string" && !headers.has("content-type")) headers.set("content-type", "application/json");
      return a.fetch(path, { ...init, headers });
    },
  };
  return a;
}

/** Hidden and named inputs of the first form in an HTML page. */
export function formFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*>/g)) {
    const tag = m[0];
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1] ?? "";
    if (name) out[name] = value.replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&#39;", "'");
  }
  return out;
}

/** Sign in through the web UI's real flow (/login → provider form → callback). Returns the final response. */
export async function signIn(a: Agent, username: string, password: string, next = "/"): Promise<Response> {
  let res = await a.fetch(`/login?next=${encodeURIComponent(next)}`);
  if (res.status !== 303) throw new Error(`signIn: /login answered ${res.status}`);
  res = await a.fetch(res.headers.get("location")!);
  if (res.status !== 200) throw new Error(`signIn: authorize answered ${res.status}`);
  const fields = formFields(await res.text());
  res = await a.fetch("/oauth/authorize", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...fields, username, password }).toString(),
  });
  if (res.status !== 303) return res;
  res = await a.fetch(res.headers.get("location")!);
  return res;
}

export async function signedIn(baseUrl: string, username: string, password: string): Promise<Agent> {
  const a = agent(baseUrl);
  const res = await signIn(a, username, password);
  if (res.status !== 303) throw new Error(`signedIn(${username}): sign-in ended with ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return a;
}
