// A port that cannot be bound stops start-up with one line naming the port
// and the config key (and env variable) that moves it.
import { envName, type ConfigKey } from "../config.ts";

export class ListenError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "ListenError";
  }
}

export function listenError(err: unknown, host: string, port: number, key: ConfigKey): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  const how = `set ${key} in config.toml or ${envName(key)}`;
  if (code === "EADDRINUSE") return new ListenError(`${key}: port ${port} on ${host} is already in use; ${how} to use another`, err);
  if (code === "EACCES") return new ListenError(`${key}: not allowed to listen on port ${port} on ${host}; ${how} (ports below 1024 need privileges)`, err);
  if (code === "EADDRNOTAVAIL") return new ListenError(`${key}: address ${host} is not on this machine; check the host setting`, err);
  return new ListenError(`${key}: cannot listen on ${host}:${port}: ${(err as Error)?.message}`, err);
}
