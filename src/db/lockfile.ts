// Embedded PGlite lets only one process open a data directory; a second one
// would corrupt it. This lock file holds the pid of the process that has it.
// A lock left by a process that no longer exists (kill -9) is taken over.

import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";

export class DataDirBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`data_dir ${dataDir} is in use by another Pulse (pid ${pid}); stop it first, or run CLI commands while it runs (they talk to it over ${join(dataDir, "pulse.sock")})`);
    this.name = "DataDirBusyError";
  }
}

/** Take the data directory's lock or throw DataDirBusyError; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, "pulse.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`db: cannot create ${path}`, { cause: err });
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new DataDirBusyError(dataDir, pid);
      unlinkSync(path); // stale: its process is gone
    }
  }
  throw new Error(`db: cannot take the lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
