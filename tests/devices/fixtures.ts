// What the device and site suites share: API keys for the cast (alice and
// carol as tenant-admins, bob as a customer), a small JSON client over
// app.request or a socket, and real HTTP ingest with a provision token.

import type { App } from "../../src/app.ts";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import type { Cast } from "../helpers/cast.ts";

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Client {
  /** The bearer key (for hand-made requests). */
  key: string;
  get<T = any>(path: string): Promise<Res<T>>;
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Res<T>>;
  patch<T = any>(path: string, body: unknown): Promise<Res<T>>;
  del<T = any>(path: string): Promise<Res<T>>;
}

type Requester = (path: string, init: RequestInit) => Promise<Response>;

/** A JSON client with a bearer key. */
export function client(request: Requester, key: string): Client {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> => {
    const h: Record<string, string> = { authorization: `Bearer ${key}`, ...headers };
    if (body !== undefined && typeof body !== "string") h["content-type"] ??= "application/json";
    const res = await request(path, { method, headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    key,
    get: (p) => call("GET", p),
    post: (p, b, h) => call("POST", p, b, h),
    patch: (p, b) => call("PATCH", p, b),
    del: (p) => call("DELETE", p),
  };
}

export interface Clients {
  alice: Client;
  bob: Client;
  carol: Client;
}

const ctx = (tenantId: string, id: string, name: string): Ctx => ({ tenantId, actor: { kind: "user", id, name }, role: "tenant-admin" });

/** API keys made as alice and carol: tenant-admin keys for alice and carol, a customer key for bob. */
export async function castClients(app: App, cast: Cast, request: Requester = (p, i) => Promise.resolve(app.http.request(p, i))): Promise<Clients> {
  const deps = app.auth.apikeys;
  const key = async (tenant: string, admin: Cast["alice"], role: "customer" | "tenant-admin", name: string) =>
    (await createApiKey(deps, ctx(tenant, admin.id, admin.username), { name, role })).secret;
  return {
    alice: client(request, await key("acme", cast.alice, "tenant-admin", "alice")),
    bob: client(request, await key("acme", cast.alice, "customer", "bob")),
    carol: client(request, await key("globex", cast.carol, "tenant-admin", "carol")),
  };
}

/** POST one telemetry message over real HTTP with X-Provision-Token. */
export async function ingest(url: string, tenant: string, device: string, token: string, metrics: Record<string, unknown> = { temp_c: 21.5 }): Promise<{ status: number; reason?: string }> {
  const res = await fetch(`${url}/ingest/v1/tenant/${tenant}/device/${device}/telemetry`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Provision-Token": token },
    body: JSON.stringify({ version: "1", metrics }),
  });
  const body = (await res.json().catch(() => ({}))) as { reason?: string };
  return { status: res.status, reason: body.reason };
}

/** Audit entries of an action, oldest first. */
export async function auditOf(app: App, action: string): Promise<Array<{ tenant_id: string | null; actor_name: string; actor_kind: string; target_id: string | null; details: Record<string, unknown> }>> {
  return withSystem(app.db, (tx) => tx.query("select tenant_id, actor_kind, actor_name, target_id, details from audit_log where action = $1 order by id", [action]));
}

/** How many rows a table holds for a tenant (as the system). */
export async function countRows(app: App, table: string, tenant: string): Promise<number> {
  const [r] = await withSystem(app.db, (tx) => tx.query<{ n: number }>(`select count(*)::int as n from ${table} where tenant_id = $1`, [tenant]));
  return r!.n;
}
