// Sequences through the openwhisk client, and conductor actions made by composer's own `compose` and `deploy` CLIs.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import { wskprops } from "../../local/server.ts";
import { startOw, statusOf } from "./helpers.ts";

const run = promisify(execFile);
const COMPOSER = join(process.cwd(), "node_modules/@ibm-functions/composer/bin");
const FIXTURES = join(process.cwd(), "test/fixtures/composer");

type Activation = {
  activationId: string;
  logs: string[];
  response: { status: string; result: Record<string, unknown> };
  annotations: Array<{ key: string; value: unknown }>;
};

async function composeAndDeploy(apiHost: string, auth: string, name: string, source: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ow-compose-"));
  const props = join(dir, "wskprops");
  writeFileSync(props, wskprops(apiHost, auth, "guest"));
  const env = { ...process.env, WSK_CONFIG_FILE: props };
  const { stdout } = await run(process.execPath, [join(COMPOSER, "compose.js"), join(FIXTURES, source)], { env });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, stdout);
  const deployed = await run(process.execPath, [join(COMPOSER, "deploy.js"), name, file, "-w"], { env });
  if (!deployed.stdout.includes("ok: created")) throw new Error(`deploy said: ${deployed.stdout} ${deployed.stderr}`);
}

test("sequence: results flow from component to component; a failing component ends it", async (t) => {
  const { client } = await startOw(t);
  await client.actions.create({ name: "inc", action: "function main(p) { return { n: (p.n || 0) + 1 }; }" });
  await client.actions.create({ name: "fail", action: "function main(p) { return { error: 'stop at ' + p.n }; }" });
  await client.actions.create({ name: "seq", sequence: ["/_/inc", "inc", "/guest/inc"] } as never);
  const ok = (await client.actions.invoke({ name: "seq", blocking: true, params: { n: 1 } })) as Activation;
  t.deepEqual(ok.response.result, { n: 4 });
  t.is(ok.logs.length, 3, "a sequence's logs are its components' activation ids");
  const component = (await client.activations.get({ name: ok.logs[0]! })) as unknown as Activation & { cause: string };
  t.is(component.cause, ok.activationId);
  await client.actions.create({ name: "broken", sequence: ["inc", "fail", "inc"] } as never);
  const failed = await statusOf(client.actions.invoke({ name: "broken", blocking: true, params: { n: 0 } }));
  t.is(failed.status, 502);
  t.deepEqual((failed.error as unknown as Activation).response.result, { error: "stop at 1" });
  t.is((failed.error as unknown as Activation).logs.length, 2);
  const missing = await statusOf(client.actions.create({ name: "bad", sequence: ["nope"] } as never));
  t.is(missing.status, 400);
  t.is(missing.error.error, "Sequence component does not exist.");
});

test("conductor action from composer's CLIs: try/catch recovers from a failing component", async (t) => {
  const { ow, client } = await startOw(t);
  await client.actions.create({
    name: "divide",
    action: "function main(p) { if (p.by === 0) return { error: 'division by zero' }; return { value: p.x / p.by }; }",
  });
  await client.actions.create({ name: "mark", action: "function main(p) { return { ...p, marked: true }; }" });
  await composeAndDeploy(ow.apiHost, ow.auth, "safe-divide", "try-catch.js");

  const deployed = await client.actions.get({ name: "safe-divide" });
  const keys = (deployed.annotations as Array<{ key: string }>).map((a) => a.key);
  t.true(keys.includes("conductor") && keys.includes("composerVersion") && keys.includes("conductorVersion"));

  const ok = (await client.actions.invoke({
    name: "safe-divide",
    blocking: true,
    params: { x: 6, by: 3 },
  })) as Activation;
  t.is(ok.response.status, "success");
  t.deepEqual(ok.response.result, { value: 2, marked: true });
  const recovered = await client.actions.invoke({
    name: "safe-divide",
    blocking: true,
    result: true,
    params: { x: 1, by: 0 },
  });
  t.deepEqual(recovered, { recovered: true, message: "division by zero", marked: true });
  t.true(ok.annotations.some((a) => a.key === "conductor" && a.value === true));
  // conductor, divide, conductor, mark, conductor
  t.is(ok.logs.length, 5);
});

test("conductor action: the platform stops a composition after 50 components", async (t) => {
  const { ow, client } = await startOw(t, { limits: { invokesPerMinute: 1000 } });
  await client.actions.create({ name: "tick", action: "function main(p) { return { n: (p.n || 0) + 1 }; }" });
  await composeAndDeploy(ow.apiHost, ow.auth, "forever", "loop.js");
  const failed = await statusOf(client.actions.invoke({ name: "forever", blocking: true }));
  t.is(failed.status, 502);
  const activation = failed.error as unknown as Activation;
  t.deepEqual(activation.response.result, { error: "Too many actions in the composition." });
  const ticks = activation.logs.length;
  t.is(ticks, 50 + 52, "50 components and the conductor activations around them");
});
