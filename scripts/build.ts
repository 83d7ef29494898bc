// npm run build: bundles each action (functions/actions.ts) with its dependencies into one CommonJS file,
// dist/<name>.js, the form OpenWhisk's Node.js runtime loads from a zip (serverless-openwhisk adds package.json),
// with its source map inline and lib/stack-traces.ts first, which maps the bundle's stack traces through it.
import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type BuildOptions, build, type Plugin } from "esbuild";
import { ACTION_ENTRIES, KAFKA_CLIENTS, type KafkaClient } from "../functions/actions.ts";
import { buildConductors } from "./conductors.ts";
import { NODE_BUNDLE } from "./node-bundle.ts";
import { repoRoot } from "./stack/paths.ts";
import { assertWiring } from "./wiring.ts";

/** The dashboard's browser script (Chart.js included) as one minified IIFE, for the page action to inline. */
async function dashboardScript(): Promise<Plugin> {
  const bundled = await build({
    entryPoints: [join(repoRoot, "functions/dashboard/browser/app.ts")],
    bundle: true,
    write: false,
    platform: "browser",
    target: "es2022",
    format: "iife",
    minify: true,
    logLevel: "error",
  });
  const code = bundled.outputFiles[0]?.text ?? "";
  return {
    name: "dashboard-app-script",
    setup(plugin) {
      plugin.onResolve({ filter: /^dashboard-app:script$/ }, (args) => ({ path: args.path, namespace: "dashboard" }));
      plugin.onLoad({ filter: /.*/, namespace: "dashboard" }, () => ({ contents: code, loader: "text" }));
    },
  };
}

/**
 * lib/stack-traces.ts as one statement, to run first in each bundle with the bundle's own path: a function of its own,
 * so that none of its names meets the bundle's.
 */
async function stackTracesBanner(): Promise<string> {
  const bundled = await build({
    stdin: {
      contents: 'import { mapStackTraces } from "./lib/stack-traces.ts"; mapStackTraces(__filename);',
      resolveDir: repoRoot,
      loader: "ts",
    },
    ...NODE_BUNDLE,
    write: false,
  });
  return `(()=>{${(bundled.outputFiles[0]?.text ?? "").trim()}})();`;
}

/**
 * KafkaJS's consumer and admin client (the modules its Kafka class requires for `consumer()` and `admin()`) left out
 * of the bundle but those `kept`: each left out is a function that throws, so a call says what is missing.
 */
export function kafkaClientsLeftOut(kept: readonly KafkaClient[]): Plugin {
  const leftOut = (["admin", "consumer"] as const).filter((client) => !kept.includes(client));
  return {
    name: "kafkajs-clients-left-out",
    setup(plugin) {
      plugin.onResolve({ filter: /^\.\/(admin|consumer)$/ }, (args) => {
        const client = args.path.slice(2) as KafkaClient;
        if (!leftOut.includes(client) || !/[\\/]kafkajs[\\/]src[\\/]index\.js$/.test(args.importer)) return undefined;
        return { path: client, namespace: "kafkajs-left-out" };
      });
      plugin.onLoad({ filter: /.*/, namespace: "kafkajs-left-out" }, (args) => ({
        contents: `module.exports = function () { throw new Error(${JSON.stringify(
          `KafkaJS's ${args.path} client is not in this action's bundle: name the action in KAFKA_CLIENTS (functions/actions.ts)`,
        )}); };`,
        loader: "js",
      }));
    },
  };
}

/** How every action is bundled: esbuild's options, but for its entry, its output and its plugins. */
export async function actionBundleOptions(): Promise<BuildOptions> {
  return {
    ...NODE_BUNDLE,
    // Inline, so the map travels in the action's zip; read by the banner only when a stack trace shows a frame of
    // the bundle, so that the trace in an activation's log points at functions/ and lib/.
    sourcemap: "inline",
    sourcesContent: false,
    banner: { js: await stackTracesBanner() },
  };
}

export async function buildActions(log: (line: string) => void = console.log): Promise<void> {
  // A deploy of actions whose triggers and rules disagree with the steps would lose or misroute events.
  assertWiring();
  // Built aside, then each file renamed into dist/ (atomic): a deploy packaging dist/ while another build runs
  // (tests run side by side) never reads a half-written bundle.
  const dist = join(repoRoot, "dist");
  const outdir = join(dist, `.build-${process.pid}-${Date.now()}`);
  mkdirSync(outdir, { recursive: true });
  const started = Date.now();
  const dashboard = await dashboardScript();
  const options = await actionBundleOptions();
  await Promise.all(
    Object.entries(ACTION_ENTRIES).map(([name, entry]) =>
      build({
        ...options,
        entryPoints: [join(repoRoot, entry)],
        outfile: join(outdir, `${name}.js`),
        plugins: [dashboard, kafkaClientsLeftOut(KAFKA_CLIENTS[name] ?? [])],
      }),
    ),
  );
  const conductors = await buildConductors(outdir);
  for (const file of readdirSync(outdir)) renameSync(join(outdir, file), join(dist, file));
  rmSync(outdir, { recursive: true, force: true });
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
