// The fixed cast of every suite: tenant acme with alice (tenant-admin) and bob
// (customer); tenant globex with carol (tenant-admin); oscar the operator.
// Seeded through the services, as an operator-admin would.

import type { App } from "../../src/app.ts";
import { createTenant } from "../../src/tenants/service.ts";
import { createUser, type User } from "../../src/auth/users/service.ts";
import { SYSTEM_ACTOR, type Caller } from "../../src/lib/ctx.ts";

export const PASSWORDS = {
  alice: "sees-the-whole-fleet-at-dawn",
  bob: "watches-his-pumps-daily",
  carol: "runs-the-other-company",
  oscar: "operates-every-tenant-quietly",
  admin: "operator-keys-for-the-test-rig",
} as const;

export interface Cast {
  alice: User;
  bob: User;
  carol: User;
  oscar: User;
}

export const platformAdmin: Caller = { actor: SYSTEM_ACTOR, role: "operator-admin" };

export async function seedCast(app: App): Promise<Cast> {
  const deps = { db: app.db, clock: app.clock };
  await createTenant(deps, platformAdmin, { id: "acme", name: "Acme Corp", timezone: "Europe/Berlin" });
  await createTenant(deps, platformAdmin, { id: "globex", name: "Globex", timezone: "America/New_York" });
  const alice = await createUser(deps, platformAdmin, { username: "alice", email: "alice@acme.test", name: "Alice Admin", password: PASSWORDS.alice, tenant: { id: "acme", role: "tenant-admin" } });
  const bob = await createUser(deps, platformAdmin, { username: "bob", email: "bob@acme.test", name: "Bob Customer", password: PASSWORDS.bob, tenant: { id: "acme", role: "customer" } });
  const carol = await createUser(deps, platformAdmin, { username: "carol", email: "carol@globex.test", name: "Carol Globex", password: PASSWORDS.carol, tenant: { id: "globex", role: "tenant-admin" } });
  const oscar = await createUser(deps, platformAdmin, { username: "oscar", email: "oscar@pulse.test", name: "Oscar Operator", password: PASSWORDS.oscar, platformRole: "operator" });
  return { alice, bob, carol, oscar };
}
