// What serverless.yml exposes to a stranger (scripts/exposure.ts): every setting the code reads is bound, no action
// gets the namespace's key, the operator's commands need a secret that has no default. Each drift is caught.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import test from "ava";
import { BOUND_SETTING_NAMES } from "../../functions/service-settings.ts";
import {
  exposureProblems,
  OPERATOR_AUTH,
  OPERATOR_SECRET_SOURCE,
  type ServerlessExposure,
} from "../../scripts/exposure.ts";
import { repoRoot } from "../../scripts/stack/paths.ts";
import { loadServerlessWiring } from "../../scripts/wiring.ts";

const fresh = () => loadServerlessWiring() as ServerlessExposure;
const { operatorSecret } = createRequire(import.meta.url)("../../scripts/serverless/operator-secret.cjs") as {
  operatorSecret(env: Record<string, string | undefined>): string | Error;
};

test("serverless.yml binds every setting the code reads, gives no action the key, locks the operator's commands", (t) => {
  t.deepEqual(exposureProblems(fresh()), []);
});

test("a setting the code reads that the package does not bind is caught", (t) => {
  const config = fresh();
  delete config.resources?.packages?.saga?.parameters?.cloudant_iam_url;
  t.deepEqual(exposureProblems(config), [
    "setting cloudant_iam_url is read by the code but not bound to package saga: a caller could set it",
  ]);
});

test("an action given the key, an operator command without the secret, a default secret: each is caught", (t) => {
  const config = fresh();
  const functions = config.functions ?? {};
  delete functions["dashboard-data"]?.annotations?.["provide-api-key"];
  delete functions["parts-restock"]?.annotations?.["require-whisk-auth"];
  config.custom = { operatorAuth: false };
  t.deepEqual(exposureProblems(config), [
    `function parts-restock changes state: it must require ${OPERATOR_AUTH}`,
    "function dashboard-data is given the namespace's API key: annotate provide-api-key: false",
    `custom.operatorAuth must be ${OPERATOR_SECRET_SOURCE}: a default would open the operator's commands`,
  ]);
});

/** Every snake_case string the system's code names: settings, and a few words of its libraries. */
function snakeCaseNames(dir: string): Set<string> {
  const names = new Set<string>();
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) for (const name of snakeCaseNames(path)) names.add(name);
    // The store client speaks CouchDB's wire names (include_docs, last_seq...): none is a setting. The Kafka feed
    // actions' parameters (kafka_admin_url...) are the feeds' own, read by no action of the saga.
    else if (
      entry.endsWith(".ts") &&
      !path.endsWith("lib/store/client.ts") &&
      !path.endsWith("lib/feed/kafka-feed-rules.ts")
    ) {
      for (const match of readFileSync(path, "utf8").matchAll(
        /["'`]([a-z]+(?:_[a-z0-9]+)+)["'`]|params\.([a-z]+_[a-z_]+)/g,
      ))
        names.add((match[1] ?? match[2]) as string);
    }
  }
  return names;
}

test("the code reads no snake_case setting the list does not name", (t) => {
  // Words of zod's issues and of CloudEvents, not settings.
  const notSettings = new Set(["invalid_type", "unrecognized_keys", "data_base64"]);
  const named = [...snakeCaseNames(join(repoRoot, "functions")), ...snakeCaseNames(join(repoRoot, "lib"))];
  t.deepEqual(
    named.filter((name) => !notSettings.has(name) && !BOUND_SETTING_NAMES.includes(name)),
    [],
  );
});

test("the operator's secret: a deploy without it, or with a short one, stops and says why", (t) => {
  const missing = operatorSecret({});
  t.true(missing instanceof Error);
  t.regex(String((missing as Error).message), /^OPERATOR_WEB_SECRET is not set: the operator's web actions/);
  t.regex(String((operatorSecret({ OPERATOR_WEB_SECRET: "short" }) as Error).message), /at least 16 characters/);
  t.is(operatorSecret({ OPERATOR_WEB_SECRET: "a-secret-of-24-character" }), "a-secret-of-24-character");
});
