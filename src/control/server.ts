// The control socket: HTTP over a unix socket in data_dir, mode 0600, so file
// permissions are the authorization. The CLI sends admin commands here while a
// server runs (embedded PGlite allows only one process in the data dir).

import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../lib/errors.ts";
import { COMMANDS, type CommandDeps } from "./commands.ts";

export const SOCKET_NAME = "pulse.sock";

export function socketPath(dataDir: string): string {
  return join(dataDir, SOCKET_NAME);
}

export interface ControlServer {
  stop(): Promise<void>;
}

export async function startControlServer(dataDir: string, deps: CommandDeps): Promise<ControlServer> {
  const path = socketPath(dataDir);
  // On Postgres nothing else may have created data_dir yet.
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(path)) {
    // A socket nobody answers on is left from a crash; one that answers is another server.
    if (await answers(path)) throw new Error(`control: another Pulse is running on ${path}`);
    unlinkSync(path);
  }
  const server = Bun.serve({
    unix: path,
    fetch: async (req) => {
      const url = new URL(req.url);
      const name = url.pathname.replace(/^\/v1\//, "");
      if (req.method === "GET" && url.pathname === "/ping") return Response.json({ ok: true });
      const handler = COMMANDS[name];
      if (req.method !== "POST" || !handler) return Response.json({ error: { code: "not_found", message: `no command ${name}` } }, { status: 404 });
      try {
        const args = (await req.json().catch(() => ({}))) as Record<string, unknown>;
        return Response.json({ result: await handler(deps, args) });
      } catch (err) {
        if (err instanceof AppError) return Response.json({ error: { code: err.code, message: err.message, field: err.field } }, { status: err.status });
        deps.log.error("control: command failed", { command: name, error: err });
        return Response.json({ error: { code: "internal", message: (err as Error).message } }, { status: 500 });
      }
    },
  });
  chmodSync(path, 0o600);
  return {
    stop: async () => {
      await server.stop(true);
      if (existsSync(path)) unlinkSync(path);
    },
  };
}

async function answers(path: string): Promise<boolean> {
  try {
    const res = await fetch("http://pulse/ping", { unix: path, signal: AbortSignal.timeout(1000) } as RequestInit);
    return res.ok;
  } catch {
    return false;
  }
}
