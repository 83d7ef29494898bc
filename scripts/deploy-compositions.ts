// npm run deploy:compositions [-- --components] [--no-build]
// The operator's command side on an OpenWhisk: builds the actions, composes each composition with composer's
// `compose` CLI, deploys it with composer's `deploy` CLI as a conductor action in the package `saga`, and makes it a
// web action. The components are deployed by `serverless deploy` (serverless.yml); `--components` deploys them from
// dist/ here instead, for an OpenWhisk where only the package `saga` exists. The package must exist either way.
//
// Target: OW_APIHOST + OW_AUTH, else WSK_CONFIG_FILE, ~/.wskprops or .stack/wskprops (as `npm run wsk`).
// OPERATOR_WEB_SECRET is required in each call's X-Require-Whisk-Auth header; without it nothing is deployed.
//
// A web action's caller chooses its parameters. The conductor reads its position in the composition from the
// parameter `$resume`, and components trust their bound parameters (cloudant_url, kafka_brokers_sasl...), so both
// are closed to callers: `$resume` is bound (empty) on the conductor and the action is annotated `final`, which
// makes OpenWhisk refuse a request that sets any bound parameter.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import JSZip from "jszip";
import openwhisk from "openwhisk";
import { ACTION_ENTRIES } from "../functions/actions.ts";
import { buildActions } from "./build.ts";
import { repoRoot } from "./stack/paths.ts";

const run = promisify(execFile);
const { operatorSecret } = createRequire(import.meta.url)("./serverless/operator-secret.cjs") as {
  operatorSecret(env: NodeJS.ProcessEnv): string | Error;
};
const COMPOSER_BIN = join(repoRoot, "node_modules/@ibm-functions/composer/bin");
export const PACKAGE = "saga";

/** The compositions: conductor action name and the composition module composer's `compose` reads. */
export const COMPOSITIONS = [
  { name: `${PACKAGE}/request-maintenance`, source: "functions/operator/compositions/request-maintenance.js" },
  { name: `${PACKAGE}/cancel-workorder`, source: "functions/operator/compositions/cancel-workorder.js" },
] as const;

/** Their components: every action built from functions/operator/. */
export const COMPONENTS = Object.entries(ACTION_ENTRIES)
  .filter(([, entry]) => entry.startsWith("functions/operator/"))
  .map(([name]) => name);

export interface Target {
  apiHost: string;
  auth: string;
  /** For the web URLs printed (default guest, the local OpenWhisk's). */
  namespace?: string;
}

export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): Target {
  const candidates = [env.WSK_CONFIG_FILE, join(homedir(), ".wskprops"), join(repoRoot, ".stack/wskprops")];
  const file = candidates.find((f): f is string => f !== undefined && existsSync(f));
  const props: Record<string, string> = {};
  for (const line of file ? readFileSync(file, "utf8").split("\n") : []) {
    const i = line.indexOf("=");
    if (i > 0) props[line.slice(0, i).trim().toUpperCase()] = line.slice(i + 1).trim();
  }
  const apiHost = env.OW_APIHOST || props.APIHOST;
  const auth = env.OW_AUTH || props.AUTH;
  if (!apiHost || !auth) {
    throw new Error("no OpenWhisk to deploy to: set OW_APIHOST and OW_AUTH, or WSK_CONFIG_FILE (npm run openwhisk)");
  }
  return { apiHost, auth, namespace: env.OW_NAMESPACE || props.NAMESPACE || undefined };
}

const clientFor = (target: Target) => openwhisk({ apihost: target.apiHost, api_key: target.auth });

async function cli(script: "compose.js" | "deploy.js", args: string[], target?: Target): Promise<string> {
  // composer's CLIs read the target from __OW_API_HOST/__OW_API_KEY (over any wskprops): no key on a command line.
  const env = { ...process.env, ...(target ? { __OW_API_HOST: target.apiHost, __OW_API_KEY: target.auth } : {}) };
  try {
    const { stdout } = await run(process.execPath, [join(COMPOSER_BIN, script), ...args], {
      cwd: repoRoot,
      env,
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const output = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `composer ${script} ${args[0]} failed: ${(output.stderr || output.stdout || output.message).trim()}`,
    );
  }
}

/** `compose` each composition into dir/<name>.json; returns the files by conductor action name. */
export async function composeAll(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const { name, source } of COMPOSITIONS) {
    const file = join(dir, `${name.replace("/", "-")}.json`);
    writeFileSync(file, await cli("compose.js", [join(repoRoot, source)]));
    files.set(name, file);
  }
  return files;
}

/** `deploy` one composed file as a conductor action, then expose it as a web action closed to parameter injection. */
export async function deployComposition(target: Target, name: string, file: string, secret: string): Promise<void> {
  const said = await cli("deploy.js", [name, file, "--overwrite"], target);
  if (!said.includes("ok: created")) throw new Error(`composer deploy ${name} said: ${said.trim()}`);
  const client = clientFor(target);
  const action = await client.actions.get({ name });
  const web: Array<{ key: string; value: unknown }> = [
    { key: "web-export", value: true },
    { key: "raw-http", value: false },
    { key: "final", value: true },
    { key: "require-whisk-auth", value: secret },
    { key: "provide-api-key", value: false },
  ];
  const kept = (action.annotations ?? []).filter((a) => !web.some((w) => w.key === a.key));
  await client.actions.update({
    name,
    action: { annotations: [...kept, ...web], parameters: [{ key: "$resume", value: {} }] },
  } as never);
}

/** The components from dist/ (run the build first), as serverless deploy would: a zip per action, nodejs:20. */
export async function deployComponents(target: Target, distDir = join(repoRoot, "dist")): Promise<void> {
  const client = clientFor(target);
  for (const name of COMPONENTS) {
    const zip = new JSZip();
    zip.file("package.json", JSON.stringify({ main: `${name}.js` }));
    zip.file(`${name}.js`, readFileSync(join(distDir, `${name}.js`)));
    const code = await zip.generateAsync({ type: "base64" });
    await client.actions.update({
      name: `${PACKAGE}/${name}`,
      action: { exec: { kind: "nodejs:20", code, binary: true, main: "main" } },
    } as never);
  }
}

export interface DeployOptions {
  build?: boolean;
  components?: boolean;
  secret: string;
  log?: (line: string) => void;
}

export async function deployOperatorCompositions(target: Target, options: DeployOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  if (options.build !== false) await buildActions(log);
  await clientFor(target)
    .packages.get({ name: PACKAGE })
    .catch((err: { statusCode?: number }) => {
      throw new Error(
        err.statusCode === 404
          ? `package ${PACKAGE} does not exist on ${target.apiHost}: run serverless deploy first`
          : `reading package ${PACKAGE} on ${target.apiHost} failed: ${String(err)}`,
      );
    });
  if (options.components) {
    await deployComponents(target);
    log(`deployed ${COMPONENTS.length} components: ${COMPONENTS.join(", ")}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "ow-saga-compositions-"));
  try {
    for (const [name, file] of await composeAll(dir)) {
      await deployComposition(target, name, file, options.secret);
      log(`deployed ${name}: ${target.apiHost.replace(/\/$/, "")}/api/v1/web/${target.namespace ?? "guest"}/${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith("deploy-compositions.ts")) {
  const args = new Set(process.argv.slice(2));
  // The same rule as serverless.yml's: no secret, no deploy.
  const secret = operatorSecret(process.env);
  if (secret instanceof Error) {
    console.error(secret.message);
    process.exit(2);
  }
  deployOperatorCompositions(targetFromEnv(), {
    build: !args.has("--no-build"),
    components: args.has("--components"),
    secret,
    log: (line) => console.log(line),
  }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
