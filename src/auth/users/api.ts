// /api/v1/users and /api/v1/invites: members of your tenant (tenant-admins),
// every account (operators), platform roles and disabling (operator-admins).
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "../index.ts";
import { callerFrom, ctxFrom } from "../middleware.ts";
import { apiRouter, errorResponses, z } from "../../http/openapi.ts";

import { createInvite, createPasswordReset, listInvites, revokeInvite } from "./invites.ts";
import { changeMemberRole, createUser, getUser, listAllPlatformUsers, listTenantMembers, removeMember, setPlatformRole, setUserStatus, type Member, type User } from "./service.ts";

const UserSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    email: z.string().nullable(),
    name: z.string(),
    platform_role: z.enum(["operator", "operator-admin"]).nullable(),
    role: z.enum(["customer", "tenant-admin"]).nullable().openapi({ description: "Role in your current tenant" }),
    status: z.enum(["ACTIVE", "DISABLED"]),
    created_at: z.string(),
    last_login_at: z.string().nullable(),
  })
  .openapi("User");

const json = (u: User | Member) => ({
  id: u.id,
  username: u.username,
  email: u.email,
  name: u.name,
  platform_role: u.platformRole,
  role: "role" in u ? u.role : null,
  status: u.status,
  created_at: u.createdAt.toISOString(),
  last_login_at: u.lastLoginAt?.toISOString() ?? null,
});

const InviteSchema = z.object({ id: z.string(), email: z.string(), role: z.enum(["customer", "tenant-admin"]), created_at: z.string(), expires_at: z.string() }).openapi("Invite");
const LinkSchema = z.object({ link: z.string().openapi({ description: "Shown once" }), expires_at: z.string(), emailed: z.boolean() }).openapi("OneTimeLink");
const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const userOk = (d: string) => ({ description: d, content: { "application/json": { schema: UserSchema } } });

export function usersApi(auth: Auth) {
  const api = apiRouter();
  const deps = { db: auth.db, clock: auth.clock };

  api.openapi(
    createRoute({
      method: "get",
      path: "/users",
      tags: ["Users"],
      summary: "Members of your tenant; with scope=platform, every account (operators)",
      request: { query: z.object({ scope: z.enum(["tenant", "platform"]).default("tenant") }) },
      responses: { 200: { description: "Users", content: { "application/json": { schema: z.object({ items: z.array(UserSchema) }) } } }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      const items = c.req.valid("query").scope === "platform" ? await listAllPlatformUsers(deps, callerFrom(c)) : await listTenantMembers(deps, ctxFrom(c));
      return c.json({ items: items.map(json) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/users",
      tags: ["Users"],
      summary: "Create a user with a password: a member of your tenant (tenant-admin), or any account (operator-admin)",
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({
                username: z.string().optional(),
                email: z.string().optional(),
                name: z.string().optional(),
                password: z.string(),
                role: z.enum(["customer", "tenant-admin"]).optional().openapi({ description: "Role in your tenant" }),
                platform_role: z.enum(["operator", "operator-admin"]).optional(),
              }),
            },
          },
        },
      },
      responses: { 201: userOk("Created"), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const caller = callerFrom(c);
      const tenant = b.role && caller.tenantId ? { id: caller.tenantId, role: b.role } : undefined;
      const user = await createUser(deps, caller, { username: b.username, email: b.email, name: b.name, password: b.password, platformRole: b.platform_role, tenant });
      return c.json(json(tenant ? { ...user, role: b.role!, memberSince: user.createdAt } : user), 201);
    },
  );

  api.openapi(
    createRoute({ method: "get", path: "/users/{id}", tags: ["Users"], summary: "Get a user", request: { params: IdParam }, responses: { 200: userOk("The user"), ...errorResponses(401, 404) } }),
    async (c) => c.json(json(await getUser(deps, callerFrom(c), c.req.valid("param").id)), 200),
  );

  api.openapi(
    createRoute({
      method: "patch",
      path: "/users/{id}",
      tags: ["Users"],
      summary: "Change a member's role in your tenant (tenant-admin), or an account's platform role or status (operator-admin)",
      request: {
        params: IdParam,
        body: {
          content: {
            "application/json": {
              schema: z.object({
                role: z.enum(["customer", "tenant-admin"]).optional(),
                platform_role: z.enum(["operator", "operator-admin"]).nullable().optional(),
                status: z.enum(["ACTIVE", "DISABLED"]).optional(),
              }),
            },
          },
        },
      },
      responses: { 200: userOk("Updated"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      const b = c.req.valid("json");
      const caller = callerFrom(c);
      let result: User | Member | undefined;
      if (b.status !== undefined) result = await setUserStatus(deps, caller, id, b.status);
      if (b.platform_role !== undefined) result = await setPlatformRole(deps, caller, id, b.platform_role);
      if (b.role !== undefined) result = await changeMemberRole(deps, ctxFrom(c), id, b.role);
      return c.json(json(result ?? (await getUser(deps, caller, id))), 200);
    },
  );

  api.openapi(
    createRoute({
      method: "delete",
      path: "/users/{id}",
      tags: ["Users"],
      summary: "Remove a member from your tenant (tenant-admin); their sessions and tokens for it end",
      request: { params: IdParam },
      responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      await removeMember(deps, ctxFrom(c), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/users/{id}/password-reset",
      tags: ["Users"],
      summary: "Make a one-time password reset link (emailed when SMTP is configured)",
      request: { params: IdParam },
      responses: { 201: { description: "Link", content: { "application/json": { schema: LinkSchema } } }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const link = await createPasswordReset(auth.users, callerFrom(c), c.req.valid("param").id);
      return c.json({ link: link.link, expires_at: link.expiresAt.toISOString(), emailed: link.emailed }, 201);
    },
  );

  api.openapi(
    createRoute({ method: "get", path: "/invites", tags: ["Users"], summary: "Pending invitations to your tenant", responses: { 200: { description: "Invites", content: { "application/json": { schema: z.object({ items: z.array(InviteSchema) }) } } }, ...errorResponses(401, 403) } }),
    async (c) => c.json({ items: (await listInvites(deps, ctxFrom(c))).map((i) => ({ id: i.id, email: i.email, role: i.role, created_at: i.createdAt.toISOString(), expires_at: i.expiresAt.toISOString() })) }, 200),
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/invites",
      tags: ["Users"],
      summary: "Invite someone to your tenant (tenant-admin); the link is returned once and emailed when SMTP is configured",
      request: { body: { content: { "application/json": { schema: z.object({ email: z.string(), role: z.enum(["customer", "tenant-admin"]) }) } } } },
      responses: { 201: { description: "Invited", content: { "application/json": { schema: LinkSchema.extend({ invite: InviteSchema }) } } }, ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => {
      const r = await createInvite(auth.users, ctxFrom(c), c.req.valid("json"));
      return c.json(
        {
          link: r.link,
          expires_at: r.expiresAt.toISOString(),
          emailed: r.emailed,
          invite: { id: r.invite.id, email: r.invite.email, role: r.invite.role, created_at: r.invite.createdAt.toISOString(), expires_at: r.invite.expiresAt.toISOString() },
        },
        201,
      );
    },
  );

  api.openapi(
    createRoute({ method: "delete", path: "/invites/{id}", tags: ["Users"], summary: "Revoke a pending invitation", request: { params: IdParam }, responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) } }),
    async (c) => {
      await revokeInvite(deps, ctxFrom(c), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
  return api;
}
