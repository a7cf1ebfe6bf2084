// What an idle MQTT connection keeps on the heap, trimmed. Most connections
// are idle devices, so aedes' per-connection objects are most of what
// thousands of them cost. aedes (pinned in package.json) builds each Client
// with closures and streams it needs once per broker; here they are swapped
// for shared functions (that find the client on `this.client`, which aedes
// sets on the connection and on the parser) and a plain buffer list, with
// the same effect:
//
// - the parser's buffer list: a whole Duplex stream (two stream states, an
//   event table, a bound callback) where mqtt-packet uses only its list
//   methods, which bl's plain BufferList has (the same code);
// - finished(conn): seven closures in three scopes, to close the client when
//   the connection ends, fails or closes; aedes' own listeners already close
//   it on 'end' and on 'error', so one shared 'close' listener does the rest
//   (a stream destroyed with neither, as a WebSocket's is);
// - four bound functions: emit 'error' from the connection and the parser,
//   close the client on the connection's 'end';
// - the parser's list of state names, the same for every parser;
// - the CONNECT packet, which the parser keeps for two of its fields (with
//   the client id, the username and the password: no reason to hold a
//   device's token for as long as it stays connected).

import type { Client } from "aedes";
import type { Duplex } from "node:stream";

type Listener = (...args: never[]) => unknown;
interface Emitter {
  listeners(ev: string): Listener[];
  removeListener(ev: string, fn: Listener): unknown;
  on(ev: string, fn: Listener): unknown;
}
interface List {
  length: number;
  constructor: { BufferList?: new () => List };
}
interface ParserInternals extends Emitter {
  client?: unknown;
  _list?: List;
  _states?: string[];
  settings?: Settings & { cmd?: string };
}
/** All mqtt-packet's parser reads from the CONNECT packet it keeps. */
interface Settings {
  protocolVersion?: number;
  bridgeMode?: boolean;
}
interface ClientInternals {
  conn?: Duplex & { client?: unknown };
  _parser?: ParserInternals;
  _eos?: () => void;
  close(): void;
  emit(ev: "error", err: Error): boolean;
}
type Owned = { client: ClientInternals };

function emitError(this: Owned, err: Error) {
  this.client.emit("error", err);
}
function closeClient(this: Owned) {
  this.client.close();
}
function noop() {}

const STATES = ["_parseHeader", "_parseLength", "_parsePayload", "_newPacket"];

/**
 * Trim one new connection's aedes Client (call it right after aedes.handle,
 * before other listeners are added). False when something was not what this
 * was written against: that part is left as aedes made it, which costs memory
 * and nothing else.
 */
export function trimClient(client: Client, stream: Duplex): boolean {
  const c = client as unknown as ClientInternals;
  const conn = c.conn;
  const parser = c._parser;
  if (!conn || conn !== stream || conn.client !== client || !parser || parser.client !== client) return false;
  let ok = true;

  const list = parser._list;
  const BufferList = list?.constructor?.BufferList;
  if (list && list.length === 0 && typeof BufferList === "function") parser._list = new BufferList();
  else ok = false;

  if (parser._states?.length === STATES.length && parser._states.every((s, i) => s === STATES[i])) parser._states = STATES;
  else ok = false;

  // finished()'s cleanup removes all it added; client.close() calls _eos once, so it must stay callable.
  const eos = c._eos;
  if (typeof eos === "function" && eos !== noop) {
    eos();
    c._eos = noop;
    conn.on("close", closeClient);
  } else ok = false;

  // Each replaced in place of the bound one, after the listeners added before it (as aedes ordered them).
  ok = swap(conn as unknown as Emitter, "error", "bound emit", emitError) && ok;
  ok = swap(parser, "error", "bound emit", emitError) && ok;
  ok = swap(conn as unknown as Emitter, "end", "bound close", closeClient) && ok;
  return ok;
}

function swap(emitter: Emitter, ev: string, boundName: string, shared: Listener): boolean {
  const all = emitter.listeners(ev);
  const bound = all.filter((fn) => fn.name === boundName);
  // Only when it is the last one: then removing it and adding the shared one keeps the order.
  if (bound.length !== 1 || all.at(-1) !== bound[0]) return false;
  emitter.removeListener(ev, bound[0]!);
  emitter.on(ev, shared);
  return true;
}

// The common case, shared; mqtt-packet only reads it.
const MQTT_311: Settings = Object.freeze({ protocolVersion: 4 });

/**
 * Once CONNECT is parsed (from aedes.authenticate on), the parser keeps only
 * what it reads of it. False when the parser holds something else.
 */
export function trimConnect(client: Client): boolean {
  const parser = (client as unknown as ClientInternals)._parser;
  const s = parser?.settings;
  if (!parser || !s || s.cmd !== "connect") return false;
  parser.settings = s.protocolVersion === 4 && !s.bridgeMode ? MQTT_311 : { protocolVersion: s.protocolVersion, bridgeMode: s.bridgeMode };
  return true;
}
