// Realistic readings for `pulse simulate`: each simulated device has a kind
// (cold room, pump, door sensor, tank) and produces values that drift,
// follow a daily cycle, flip states and now and then cross a limit, so that
// dashboards and alert rules have something true-looking to show.

export type Kind = "cold-room" | "pump" | "door" | "tank";
export const KINDS: readonly Kind[] = ["cold-room", "pump", "door", "tank"];

export interface SimDevice {
  id: string;
  kind: Kind;
  seed: number;
  seq: number;
  battery: number;
  door: boolean;
  level: number;
}

export function simDevice(id: string, index: number): SimDevice {
  return { id, kind: KINDS[index % KINDS.length]!, seed: (index * 7919) % 1000, seq: 0, battery: 100 - (index % 40), door: false, level: 40 + (index % 50) };
}

/** Deterministic noise in [-1, 1] from a seed and a time, so runs look alike. */
function noise(seed: number, t: number): number {
  const x = Math.sin(seed * 12.9898 + t * 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

/** The next telemetry envelope (without credentials) for a device at time t (ms). */
export function reading(d: SimDevice, t: number): { ts: number; seq: number; metrics: Record<string, number | boolean | string> } {
  const day = Math.sin((2 * Math.PI * (t % 86_400_000)) / 86_400_000);
  const n = noise(d.seed, Math.floor(t / 1000));
  d.seq++;
  d.battery = Math.max(5, d.battery - 0.0005);
  let metrics: Record<string, number | boolean | string>;
  switch (d.kind) {
    case "cold-room": {
      // A compressor struggling on some afternoons pushes the room over 8 °C.
      const temp = 4 + 1.5 * day + 0.4 * n + (day > 0.9 && d.seed % 3 === 0 ? 5 : 0);
      metrics = { temp_c: round(temp), humidity_pct: round(70 + 8 * day + 2 * n), mode: temp > 7 ? "defrost" : "cool" };
      break;
    }
    case "pump": {
      const pressure = 3.2 + 0.3 * n + (d.seed % 5 === 0 && n > 0.8 ? 2.5 : 0);
      metrics = { pressure_bar: round(pressure), flow_lpm: round(Math.max(0, 120 + 30 * day + 10 * n)), running: n > -0.95 };
      break;
    }
    case "door": {
      if (Math.abs(n) > 0.97) d.door = !d.door;
      metrics = { door_open: d.door, temp_c: round(19 + 2 * day + 0.3 * n) };
      break;
    }
    case "tank": {
      d.level = Math.min(100, Math.max(0, d.level - 0.05 + (d.level < 10 ? 60 : 0) + 0.02 * n));
      metrics = { level_pct: round(d.level), temp_c: round(12 + 3 * day) };
      break;
    }
  }
  metrics.battery_pct = round(d.battery);
  return { ts: Math.floor(t) / 1000, seq: d.seq, metrics };
}

const round = (v: number) => Math.round(v * 100) / 100;
