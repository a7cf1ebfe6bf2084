// Static assets: the stylesheet and the islands (small client scripts). They
// are served under content-hashed URLs with immutable caching, so a new
// release never mixes with a cached old one. `bun run build` bundles them into
// the binary (scripts/build.ts writes build/assets.gen.json); from source they
// are bundled in memory at start.

import { readdirSync } from "node:fs";
import { join, basename } from "node:path";
import css from "./static/app.css" with { type: "text" };

export interface Asset {
  /** URL path, content-hashed: /assets/app.3f9c2a1b.css */
  path: string;
  body: string;
  type: string;
}

export interface Assets {
  /** URL of an asset by logical name ("app.css", "islands/live-feed.js"). */
  url(name: string): string;
  /** The asset at a URL path, if any. */
  get(path: string): Asset | undefined;
  names(): string[];
}

export type AssetSources = Record<string, { body: string; type: string }>;

/** Assets embedded by the build, when running the compiled binary. */
let embedded: AssetSources | undefined;
export function registerEmbeddedAssets(sources: AssetSources): void {
  embedded = sources;
}

/** Hash and index a set of sources. */
export function assetTable(sources: AssetSources): Assets {
  const byName = new Map<string, Asset>();
  const byPath = new Map<string, Asset>();
  for (const [name, src] of Object.entries(sources)) {
    const hash = new Bun.CryptoHasher("sha256").update(src.body).digest("hex").slice(0, 10);
    const dot = name.lastIndexOf(".");
    const path = `/assets/${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
    const asset = { path, body: src.body, type: src.type };
    byName.set(name, asset);
    byPath.set(path, asset);
  }
  return {
    url: (name) => {
      const a = byName.get(name);
      if (!a) throw new Error(`web: no asset named ${name}`);
      return a.path;
    },
    get: (path) => byPath.get(path),
    names: () => [...byName.keys()],
  };
}

const ISLANDS_DIR = join(import.meta.dir, "islands");

/** Bundle every island (web/islands/*.ts) for the browser; used by the build and when running from source. */
export async function bundleSources(): Promise<AssetSources> {
  const sources: AssetSources = { "app.css": { body: css, type: "text/css; charset=utf-8" } };
  const entries = readdirSync(ISLANDS_DIR)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.startsWith("_"))
    .map((f) => join(ISLANDS_DIR, f));
  if (entries.length === 0) return sources;
  const out = await Bun.build({ entrypoints: entries, target: "browser", format: "esm", minify: true, splitting: false });
  if (!out.success) throw new Error("web: bundling islands failed: " + out.logs.map(String).join("\n"));
  for (const file of out.outputs) {
    sources[`islands/${basename(file.path)}`] = { body: await file.text(), type: "text/javascript; charset=utf-8" };
  }
  return sources;
}

/** The assets of this process: embedded ones in the binary, else bundled now. */
export async function loadAssets(): Promise<Assets> {
  return assetTable(embedded ?? (await bundleSources()));
}
