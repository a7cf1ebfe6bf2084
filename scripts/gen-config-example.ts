// bun scripts/gen-config-example.ts: write config.example.toml from the config
// table, so the example documents every key and cannot drift from the code
// (tests/config/example.test.ts fails when the committed file is stale).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { exampleToml } from "../src/config.ts";

const path = join(import.meta.dir, "..", "config.example.toml");
writeFileSync(path, exampleToml());
console.log(`wrote ${path}`);
