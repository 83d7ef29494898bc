// npm run build: bundles each action (functions/actions.ts) with its dependencies into one CommonJS file,
// dist/<name>.js, the form OpenWhisk's Node.js runtime loads from a zip (serverless-openwhisk adds package.json).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { ACTION_ENTRIES } from "../functions/actions.ts";
import { buildConductors } from "./conductors.ts";
import { repoRoot } from "./stack/paths.ts";

export async function buildActions(log: (line: string) => void = console.log): Promise<void> {
  const outdir = join(repoRoot, "dist");
  rmSync(outdir, { recursive: true, force: true });
  const started = Date.now();
  await Promise.all(
    Object.entries(ACTION_ENTRIES).map(([name, entry]) =>
      build({
        entryPoints: [join(repoRoot, entry)],
        outfile: join(outdir, `${name}.js`),
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        minify: true,
        sourcemap: false,
        logLevel: "error",
      }),
    ),
  );
  const conductors = await buildConductors(outdir);
  log(
    `built ${Object.keys(ACTION_ENTRIES).length} actions and ${conductors.length} conductors into dist/ in ${Date.now() - started} ms`,
  );
}

if (process.argv[1]?.endsWith("build.ts")) {
  buildActions().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
