// The shutdown spool: QoS 0 messages still queued when a shutdown runs out of
// time. Their senders will never send them again (no PUBACK is awaited), so
// rather than drop them they are written to data_dir/spool/ and written to the
// database at the next start. QoS 1 and HTTP messages are not spooled: their
// senders were not acknowledged and send them again.
//
// A file is written whole (temporary name, fsync, rename), and removed only
// once every message in it is committed: a crash during replay replays it
// again (at-least-once, like QoS 1), never loses it. Provisioning tokens are
// secrets and never reach the disk; the token's id is kept instead.

import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../lib/logger.ts";
import type { Envelope } from "./parse.ts";
import { PoisonError, type Accepted, type Writer } from "./writer.ts";

const DIR = "spool";
const PREFIX = "ingest-";
const SUFFIX = ".ndjson";

interface SpooledLine {
  env: Omit<Envelope, "time" | "provisionToken"> & { time: string };
  transport?: Accepted["transport"];
  receivedAt: string;
  tokenId?: string;
}

/** Write messages to a new spool file; resolves once the file is durable. Returns its path. */
export async function spoolMessages(dataDir: string, messages: readonly Accepted[], now: Date): Promise<string> {
  const dir = join(dataDir, DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = `${PREFIX}${now.toISOString().replace(/[:.]/g, "-")}-${crypto.randomUUID().slice(0, 8)}${SUFFIX}`;
  const tmp = join(dir, `.${name}.tmp`);
  const lines = messages.map((m) => {
    const { provisionToken: _secret, time, ...env } = m.env;
    const line: SpooledLine = { env: { ...env, time: time.toISOString() }, transport: m.transport, receivedAt: m.receivedAt.toISOString(), tokenId: m.tokenId };
    return JSON.stringify(line);
  });
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(lines.join("\n") + "\n");
    await fh.sync();
  } finally {
    await fh.close();
  }
  const path = join(dir, name);
  await rename(tmp, path);
  return path;
}

/** The spool files waiting, oldest first. */
export async function spoolFiles(dataDir: string): Promise<string[]> {
  const names = await readdir(join(dataDir, DIR)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  return names
    .filter((n) => n.startsWith(PREFIX) && n.endsWith(SUFFIX))
    .sort()
    .map((n) => join(dataDir, DIR, n));
}

/** Read one spool file back into messages (a damaged line is reported, not fatal). */
export async function readSpool(path: string, log: Logger): Promise<Accepted[]> {
  const text = await readFile(path, "utf8");
  const out: Accepted[] = [];
  let bad = 0;
  for (const raw of text.split("\n")) {
    if (!raw.trim()) continue;
    try {
      const l = JSON.parse(raw) as SpooledLine;
      const time = new Date(l.env.time);
      const receivedAt = new Date(l.receivedAt);
      if (!l.env.tenantId || !l.env.deviceId || Number.isNaN(time.getTime()) || Number.isNaN(receivedAt.getTime())) throw new Error("incomplete");
      out.push({ env: { ...l.env, time }, transport: l.transport, receivedAt, tokenId: l.tokenId });
    } catch {
      bad++;
    }
  }
  // A torn last line can only come from a disk fault (files are renamed into place whole).
  if (bad) log.error("ingest: spool file has unreadable lines; they are skipped", { file: path, lines: bad });
  return out;
}

/**
 * Queue every spooled message again (waiting for room as a device would) and
 * remove each file once all its messages are committed. Resolves when every
 * file is queued; `committed` resolves when they are all written.
 */
export async function replaySpool(dataDir: string, writer: Writer, log: Logger): Promise<{ queued: number; committed: Promise<void> }> {
  let queued = 0;
  const files: Promise<void>[] = [];
  for (const path of await spoolFiles(dataDir)) {
    const messages = await readSpool(path, log);
    // A message the database refuses for its content is settled too (it went to the quarantine).
    const done = messages.map((m) => new Promise<void>((resolve, reject) => (m.done = (err) => (err && !(err instanceof PoisonError) ? reject(err) : resolve()))));
    for (const m of messages) {
      if (!writer.enqueue(m) && !(await writer.enqueueWhenRoom(m))) throw new Error("ingest: stopped while replaying the spool");
    }
    queued += messages.length;
    log.info("ingest: replaying messages spooled at the last shutdown", { file: path, messages: messages.length });
    files.push(
      Promise.all(done)
        .then(() => unlink(path))
        // Not all written (shut down again), or not removable: the file stays for the next start.
        .catch((err) => log.warn("ingest: spool file kept for the next start", { file: path, error: err })),
    );
  }
  return { queued, committed: Promise.all(files).then(() => {}) };
}
