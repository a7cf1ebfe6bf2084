// MQTT over WebSocket at /mqtt on the HTTP port: Bun's WebSocket server
// upgrades the request, and each socket is adapted to the duplex stream
// aedes expects. Write backpressure follows Bun's send() result and drain;
// read backpressure pauses the socket while the stream holds what the read
// pacing (broker.ts) has not taken yet, as a TCP connection's data stays in
// the kernel: otherwise a flooding WebSocket client was buffered in memory
// without bound.

import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { Duplex } from "node:stream";

export const MQTT_WS_PATH = "/mqtt";

interface WsData {
  kind: "mqtt";
  stream?: WsStream;
}

class WsStream extends Duplex {
  private pending: Array<() => void> = [];
  constructor(private readonly ws: ServerWebSocket<WsData>) {
    super();
  }
  /** The pacer wants more: read the socket again. */
  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }
  /** A message off the socket; reading it stops once the stream holds a high-water mark's worth. */
  received(bytes: Buffer): void {
    if (!this.push(bytes)) this.ws.pause();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const sent = this.ws.send(chunk, false);
    if (sent === 0) return cb(new Error("websocket closed"));
    // -1: queued under backpressure; continue once Bun says the socket drained.
    if (sent === -1) this.pending.push(() => cb());
    else cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.ws.close();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    try {
      this.ws.close();
    } catch {
      /* already closed */
    }
    cb(err);
  }
  drained(): void {
    const p = this.pending;
    this.pending = [];
    for (const fn of p) fn();
  }
}

/** Upgrade /mqtt requests; undefined for everything else (or when the upgrade failed). */
export function upgradeMqtt(req: Request, server: Server<WsData>): Response | undefined {
  if (new URL(req.url).pathname !== MQTT_WS_PATH || req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  // MQTT clients ask for the "mqtt" subprotocol and require it echoed.
  const asked = req.headers.get("sec-websocket-protocol")?.split(",").map((s) => s.trim()) ?? [];
  const headers = asked.includes("mqtt") ? { "Sec-WebSocket-Protocol": "mqtt" } : undefined;
  if (server.upgrade(req, { data: { kind: "mqtt" }, headers })) return new Response(null, { status: 101 });
  return new Response("websocket upgrade failed", { status: 400 });
}

export function mqttWebSocketHandlers(handle: (stream: Duplex) => void): WebSocketHandler<WsData> {
  return {
    open(ws) {
      const stream = new WsStream(ws);
      ws.data.stream = stream;
      handle(stream);
    },
    message(ws, msg) {
      ws.data.stream?.received(typeof msg === "string" ? Buffer.from(msg) : Buffer.from(msg));
    },
    drain(ws) {
      ws.data.stream?.drained();
    },
    close(ws) {
      const s = ws.data.stream;
      if (s) {
        s.push(null);
        s.destroy();
      }
    },
    maxPayloadLength: 16 * 1024 * 1024,
    idleTimeout: 0,
  };
}
