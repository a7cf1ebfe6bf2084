// PUBLISH packets read straight off a connection's chunk. Nearly every packet
// a device sends is a PUBLISH, and mqtt-packet's general parser spent more on
// each than judging and queueing its message: the chunk copied into a buffer
// list (materialising its ArrayBuffer), four state steps, each with debug
// calls whose arguments are built even when debugging is off, and the topic
// and payload sliced out of the list. Here, when the connection's parser has
// nothing half-read, every whole MQTT 3.1.1 PUBLISH at the front of the chunk
// is decoded in place and emitted as the parser would emit it (same fields, a
// payload that is a view of the chunk, as the parser's is when a packet lies
// in one chunk); anything else — another packet type, a packet cut by the
// chunk's end, an oversize or malformed one, MQTT 5 properties — and all
// that follows it go to the parser as before, so its checks and errors are
// unchanged.

/** What aedes reads from the parser (mqtt-packet's Parser, pinned in package.json). */
export interface PacketParser {
  parse(buf: Buffer): unknown;
  emit(ev: "packet", packet: unknown): boolean;
  error?: unknown;
  _stateCounter?: number;
  _list?: { length: number };
  settings?: { protocolVersion?: number };
}

/** The parser's own packet shape, so aedes sees one kind of object whichever way it was read. */
class PublishPacket {
  cmd = "publish";
  /** Set for QoS 1 and 2 only, as the parser does. */
  declare messageId?: number;
  constructor(
    public retain: boolean,
    public qos: number,
    public dup: boolean,
    public length: number,
    public topic: string,
    public payload: Buffer,
  ) {}
}

/** True when the parser's internals are the ones this reads (otherwise it must not be used). */
export function canParseDirectly(parser: unknown): parser is PacketParser {
  const p = parser as PacketParser | undefined;
  return !!p && typeof p.parse === "function" && typeof p.emit === "function" && typeof p._stateCounter === "number" && typeof p._list?.length === "number";
}

/**
 * Parse `buf` for this connection: whole PUBLISH packets at its front here,
 * the rest by the parser. `maxPacketBytes`: a larger packet is left to the
 * parser (whose length check closes the connection).
 */
export function parseChunk(parser: PacketParser, buf: Buffer, maxPacketBytes: number): void {
  // Only at a packet boundary, with nothing buffered, before any error, and not on MQTT 5.
  if (parser._stateCounter !== 0 || parser._list!.length !== 0 || parser.error || parser.settings?.protocolVersion === 5) {
    parser.parse(buf);
    return;
  }
  const size = buf.length;
  let pos = 0;
  while (pos < size) {
    const first = buf[pos]!;
    const qos = (first >> 1) & 3;
    if (first >> 4 !== 3 || qos === 3) break;
    // Remaining length: 1–4 bytes, 7 bits each.
    let length = 0;
    let i = pos + 1;
    let shift = 1;
    let done = false;
    for (let n = 0; n < 4 && i < size; n++) {
      const b = buf[i++]!;
      length += (b & 127) * shift;
      shift *= 128;
      if (b < 128) {
        done = true;
        break;
      }
    }
    if (!done || length > maxPacketBytes) break;
    const end = i + length;
    if (end > size || length < 2) break;
    const topicEnd = i + 2 + ((buf[i]! << 8) | buf[i + 1]!);
    let body = topicEnd;
    if (qos > 0) body += 2;
    if (body > end) break;
    const packet = new PublishPacket((first & 1) !== 0, qos, (first & 8) !== 0, length, buf.toString("utf8", i + 2, topicEnd), buf.subarray(body, end));
    if (qos > 0) packet.messageId = (buf[topicEnd]! << 8) | buf[topicEnd + 1]!;
    pos = end;
    parser.emit("packet", packet);
    // Handling the packet may have closed the connection, or made the parser fail.
    if (parser.error) return;
  }
  if (pos < size) parser.parse(pos === 0 ? buf : buf.subarray(pos));
}
