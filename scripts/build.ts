// bun run build: one executable, dist/pulse, holding everything Pulse needs:
// migrations (text imports), PGlite's WASM and data (file imports), and the
// web assets (CSS and bundled islands, registered before main runs).

import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { bundleSources } from "../web/assets.ts";

const root = join(import.meta.dir, "..");
const buildDir = join(root, "build");
const outfile = join(root, "dist", "pulse");

const started = performance.now();
rmSync(buildDir, { recursive: true, force: true });
mkdirSync(buildDir, { recursive: true });
mkdirSync(join(root, "dist"), { recursive: true });

const sources = await bundleSources();
writeFileSync(join(buildDir, "assets.gen.json"), JSON.stringify(sources));
// main.ts runs on import, so it is imported only after the assets are registered.
writeFileSync(
  join(buildDir, "entry.ts"),
  `import { registerEmbeddedAssets } from "../web/assets.ts";
import sources from "./assets.gen.json" with { type: "json" };
registerEmbeddedAssets(sources);
await import("../src/main.ts");
`,
);

// The commit is stamped into `pulse version`; image builds have no .git (or no git), so it may come from the environment.
const commit = process.env.PULSE_BUILD_COMMIT || gitCommit() || "unknown";
const result = await Bun.build({
  // Workers are entrypoints of their own in a compiled executable (new Worker finds them by their source path).
  entrypoints: [join(buildDir, "entry.ts"), join(root, "src", "alerts", "write-thread-worker.ts")],
  compile: { outfile },
  target: "bun",
  minify: { syntax: true, whitespace: true },
  sourcemap: "inline",
  define: { PULSE_BUILD_COMMIT: JSON.stringify(commit) },
});
if (!result.success) {
  for (const log of result.logs) console.error(String(log));
  process.exit(1);
}
console.log(`built ${outfile} (commit ${commit}, ${Object.keys(sources).length} assets) in ${Math.round(performance.now() - started)} ms`);

function gitCommit(): string | undefined {
  try {
    const r = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: root, stderr: "ignore" });
    return r.success ? r.stdout.toString().trim() : undefined;
  } catch {
    return undefined; // git is not installed
  }
}
