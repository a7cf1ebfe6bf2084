// What the bench orchestrators and their publisher processes share: the
// latency histogram and the sample metrics. No imports, so the publisher
// processes stay small.

// ---------------------------------------------------------------- latency histograms

/** Log buckets of 2% from 0.05 ms: index = round(log(ms / 0.05) / log(1.02)). */
export const HIST_SIZE = 800;
const LOG_STEP = Math.log(1.02);
export const bucketOf = (ms: number) => Math.max(0, Math.min(HIST_SIZE - 1, Math.round(Math.log(Math.max(ms, 0.05) / 0.05) / LOG_STEP)));
export const msOfBucket = (b: number) => 0.05 * Math.exp(b * LOG_STEP);

export function percentile(hist: ArrayLike<number>, p: number): number {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i]!;
  if (!total) return NaN;
  const want = total * p;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= want) return msOfBucket(i);
  }
  return msOfBucket(hist.length - 1);
}

export const histCount = (hist: ArrayLike<number>) => {
  let t = 0;
  for (let i = 0; i < hist.length; i++) t += hist[i]!;
  return t;
};

// ---------------------------------------------------------------- rows like Pulse writes them

/** Metrics like the publishers send: 3–6 values incl. a boolean and a short string. */
export function sampleMetrics(deviceIndex: number, seq: number): string {
  const n = 3 + (deviceIndex % 4);
  const t = 18 + ((seq * 7 + deviceIndex) % 100) / 10;
  let s = `{"temp_c":${t},"door_open":${seq % 5 === 0},"mode":"${MODES[seq % 3]}"`;
  if (n > 3) s += `,"battery_pct":${100 - (seq % 100)}`;
  if (n > 4) s += `,"humidity":${40 + (seq % 200) / 10}`;
  if (n > 5) s += `,"rssi":${-60 - (seq % 30)}`;
  return s + "}";
}
const MODES = ["cool", "heat", "idle"];

