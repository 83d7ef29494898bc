// The build leaves KafkaJS's consumer and admin client out of every action that KAFKA_CLIENTS (functions/actions.ts)
// does not name. Here each action's code is bundled as the build bundles it (unused exports dropped), and every
// call of `.consumer(` or `.admin(` in the project's own code that remains must be one the action is given; an
// action given a client it no longer calls is reported too, so the list stays exact. A call of a client left out
// throws an error that names the list.
import { createRequire } from "node:module";
import { join } from "node:path";
import test from "ava";
import { build, type Plugin } from "esbuild";
import { ACTION_ENTRIES, KAFKA_CLIENTS, type KafkaClient } from "../../functions/actions.ts";
import { kafkaClientsLeftOut } from "../../scripts/build.ts";
import { repoRoot } from "../../scripts/stack/paths.ts";

/** A call of a client, however written: `x.admin(`, `x?.consumer(`, `x["admin"](`, or destructured from its owner. */
const CLIENT_CALL =
  /(?:\?\.|\.)\s*(admin|consumer)\s*\(|\[\s*["'`](admin|consumer)["'`]\s*\]|\{[^{}]*\b(admin|consumer)\b[^{}]*\}\s*=/g;

/** The dashboard page's browser script, a text the build makes separately: nothing to bundle here. */
const noDashboardScript: Plugin = {
  name: "no-dashboard-script",
  setup(plugin) {
    plugin.onResolve({ filter: /^dashboard-app:script$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/** The clients the project code bundled into the action calls, each with the file that calls it. */
async function clientsCalled(entry: string): Promise<Map<KafkaClient, string[]>> {
  const bundled = await build({
    entryPoints: [join(repoRoot, entry)],
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    platform: "node",
    target: "node20",
    format: "cjs",
    outfile: "action.js",
    logLevel: "error",
    plugins: [noDashboardScript],
  });
  // Unminified, esbuild writes each module's remaining code after a comment naming its file.
  const sections = (bundled.outputFiles[0]?.text ?? "").split(/^\/\/ (?=\S+\.[cm]?[jt]s$)/m);
  const calls = new Map<KafkaClient, string[]>();
  for (const section of sections) {
    const file = section.slice(0, section.indexOf("\n"));
    if (!/^(functions|lib|triggers)\//.test(file)) continue;
    for (const match of section.matchAll(CLIENT_CALL)) {
      const client = (match[1] ?? match[2] ?? match[3]) as KafkaClient;
      calls.set(client, [...new Set([...(calls.get(client) ?? []), file])]);
    }
  }
  return calls;
}

test("every action is given exactly the KafkaJS clients its bundled code calls", async (t) => {
  t.timeout(120_000);
  const problems: string[] = [];
  await Promise.all(
    Object.entries(ACTION_ENTRIES).map(async ([action, entry]) => {
      const called = await clientsCalled(entry);
      const given = KAFKA_CLIENTS[action] ?? [];
      for (const [client, files] of called) {
        if (!given.includes(client))
          problems.push(`${action} calls ${client}() (${files.join(", ")}) but is not given it`);
      }
      for (const client of given) {
        if (!called.has(client)) problems.push(`${action} is given ${client}() but calls it nowhere`);
      }
    }),
  );
  t.deepEqual(problems.sort(), []);
});

test("KAFKA_CLIENTS names only actions", (t) => {
  t.deepEqual(
    Object.keys(KAFKA_CLIENTS).filter((action) => !(action in ACTION_ENTRIES)),
    [],
  );
});

/** A Kafka client bundled with the plugin, as an action's would be, and the result of calling `client()` on it. */
async function callBundled(kept: readonly KafkaClient[], client: KafkaClient): Promise<unknown> {
  const bundled = await build({
    stdin: {
      contents: `const { Kafka } = require("kafkajs"); module.exports = () => new Kafka({ brokers: ["127.0.0.1:9"] }).${client}(${client === "consumer" ? '{ groupId: "g" }' : ""});`,
      resolveDir: repoRoot,
    },
    bundle: true,
    write: false,
    platform: "node",
    format: "cjs",
    logLevel: "error",
    plugins: [kafkaClientsLeftOut(kept)],
  });
  const module = { exports: {} as () => unknown };
  new Function("module", "exports", "require", bundled.outputFiles[0]?.text ?? "")(
    module,
    module.exports,
    createRequire(join(repoRoot, "package.json")),
  );
  return module.exports();
}

test("a client left out throws, naming KAFKA_CLIENTS; a client kept is KafkaJS's own", async (t) => {
  for (const client of ["admin", "consumer"] as const) {
    await t.throwsAsync(callBundled([], client), {
      message: `KafkaJS's ${client} client is not in this action's bundle: name the action in KAFKA_CLIENTS (functions/actions.ts)`,
    });
    const kept = (await callBundled([client], client)) as { connect?: unknown };
    t.is(typeof kept.connect, "function");
  }
});
