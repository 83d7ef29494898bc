// A stack trace of a bundled action points at the project's sources: the bundle's own frames mapped through its
// inline source map (lib/stack-traces.ts, put first in every bundle by scripts/build.ts), which the bundle reads
// only when a trace first needs it, never while it loads.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { build } from "esbuild";
import { actionBundleOptions } from "../../scripts/build.ts";
import { repoRoot } from "../../scripts/stack/paths.ts";

const ENTRY = `
import { defineEventCatalog } from "./lib/events/catalog.ts";
import * as z from "./lib/zod.ts";
const catalog = defineEventCatalog({ "a.b": z.object({ n: z.number() }) });
export function main() {
  return catalog.build("a.b", { id: "i", source: "s", subject: "x", time: "2026-01-01T00:00:00Z", data: { n: "one" } as never });
}
`;

// Loads the action as OpenWhisk's runtime does (a folder with its package.json), counts the reads of the bundle's
// file, and prints the stack of the error its main throws, twice.
const PROBE = `
const fs = require("node:fs");
const readFileSync = fs.readFileSync;
let reads = 0;
fs.readFileSync = function (file, ...rest) {
  if (String(file).endsWith("action.js")) reads += 1;
  return readFileSync.call(this, file, ...rest);
};
const action = require(process.cwd());
const atLoad = reads;
const stacks = [];
for (let i = 0; i < 2; i++) {
  try { action.main(); } catch (error) { stacks.push(error.stack); }
}
process.stdout.write(JSON.stringify({ atLoad, later: reads - atLoad, stacks }));
`;

test("a bundle's stack trace names the source file and line; its map is read once, after loading", async (t) => {
  const folder = mkdtempSync(join(tmpdir(), "stack-traces-"));
  try {
    mkdirSync(join(folder, "dist"));
    writeFileSync(join(folder, "package.json"), JSON.stringify({ main: "dist/action.js" }));
    // Named as the build names its output (dist/.build-<id>/<name>.js), so the map names sources as in dist/.
    const bundled = await build({
      ...(await actionBundleOptions()),
      stdin: { contents: ENTRY, resolveDir: repoRoot, loader: "ts" },
      outfile: join(repoRoot, "dist/.build-test/action.js"),
      write: false,
    });
    writeFileSync(join(folder, "dist/action.js"), bundled.outputFiles[0]?.text ?? "");
    const { atLoad, later, stacks } = JSON.parse(
      execFileSync(process.execPath, ["-e", PROBE], { cwd: folder, encoding: "utf8" }),
    ) as { atLoad: number; later: number; stacks: string[] };

    const source = readFileSync(join(repoRoot, "lib/events/catalog.ts"), "utf8").split("\n");
    const line = source.findIndex((text) => text.includes("throw new EventSchemaError")) + 1;
    const [head, top] = (stacks[0] ?? "").split("\n");
    t.is(head, "EventSchemaError: cannot emit a.b: a.b: data.n: Invalid input: expected number, received string");
    t.regex(top ?? "", new RegExp(`^ {4}at .*\\(lib/events/catalog\\.ts:${line}:\\d+\\)$`));
    t.is(stacks[1], stacks[0]);
    t.true(atLoad <= 1, "the bundle reads nothing of itself while it loads (Node's loader reads it once)");
    t.is(later, 1, "the map is read for the first trace only");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
