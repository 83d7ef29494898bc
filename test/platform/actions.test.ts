// Actions on the local OpenWhisk through the openwhisk npm client: CRUD, result kinds and their status codes,
// containers (warm reuse, discard, timeout kill, concurrency), limits, parameters.
import test from "ava";
import { eventually, startOw, statusOf } from "./helpers.ts";

type Activation = {
  activationId: string;
  response: { status: string; statusCode: number; success: boolean; result: Record<string, unknown> };
  logs: string[];
  annotations: Array<{ key: string; value: unknown }>;
};

const annotation = (a: Activation, key: string) => a.annotations.find((x) => x.key === key)?.value;

const ECHO = `function main(params) { console.log("hello from", params.name); return { pid: process.pid, params }; }`;

async function rawFetch(url: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

test("authentication: missing and wrong keys get 401 with the controller's error shape", async (t) => {
  const { ow } = await startOw(t);
  const missing = await rawFetch(`${ow.apiHost}/api/v1/namespaces/_/actions`, {});
  t.is(missing.status, 401);
  t.is(typeof missing.body.error, "string");
  t.is(typeof missing.body.code, "string");
  const wrong = await rawFetch(`${ow.apiHost}/api/v1/namespaces/_/actions`, {
    headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
  });
  t.is(wrong.status, 401);
  t.is(wrong.body.error, "The supplied authentication is invalid");
  const badJson = await rawFetch(`${ow.apiHost}/api/v1/namespaces/_/actions/x?blocking=true`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(ow.auth).toString("base64")}`, "content-type": "application/json" },
    body: "{not json",
  });
  t.is(badJson.status, 400);
  t.regex(String(badJson.body.error), /^The request content was malformed/);
  const other = await rawFetch(`${ow.apiHost}/api/v1/namespaces/someone-else/actions`, {
    headers: { authorization: `Basic ${Buffer.from(ow.auth).toString("base64")}` },
  });
  t.is(other.status, 403);
});

test("CRUD: create, 409 without overwrite, update, get, list as arrays, delete, 404", async (t) => {
  const { client } = await startOw(t);
  await client.packages.create({ name: "pkg", package: { parameters: [{ key: "p", value: 1 }] } });
  const created = await client.actions.create({ name: "pkg/echo", action: ECHO });
  t.is(created.name, "echo");
  t.is(created.exec.kind, "nodejs:20");
  t.is((await statusOf(client.actions.create({ name: "pkg/echo", action: ECHO }))).status, 409);
  const updated = await client.actions.update({ name: "pkg/echo", action: ECHO, params: { a: 1 } });
  t.is(updated.version, "0.0.2");
  const got = await client.actions.get({ name: "pkg/echo" });
  t.deepEqual(got.parameters, [
    { key: "p", value: 1 },
    { key: "a", value: 1 },
  ]);
  const list = await client.actions.list();
  t.true(Array.isArray(list));
  t.is(list.length, 1);
  t.true(Array.isArray(await client.packages.list()));
  t.true(Array.isArray(await client.triggers.list()));
  t.true(Array.isArray(await client.rules.list()));
  t.true(Array.isArray(await client.activations.list()));
  const pkg = await client.packages.get({ name: "pkg" });
  t.deepEqual(
    (pkg.actions ?? []).map((a) => a.name),
    ["echo"],
  );
  t.is((await statusOf(client.packages.delete({ name: "pkg" }))).status, 409);
  await client.actions.delete({ name: "pkg/echo" });
  const missing = await statusOf(client.actions.get({ name: "pkg/echo" }));
  t.is(missing.status, 404);
  t.is(missing.error.error, "The requested resource does not exist.");
  t.is(typeof missing.error.code, "string");
  t.is((await statusOf(client.actions.invoke({ name: "nope", blocking: true }))).status, 404);
});

test("result kinds: success 200, application error 502, developer error 502 with the container discarded", async (t) => {
  const { client } = await startOw(t);
  await client.actions.create({
    name: "kinds",
    action: `function main(p) {
      if (p.kind === "appError") return { error: { reason: "no" } };
      if (p.kind === "reject") return Promise.reject(new Error("rejected"));
      if (p.kind === "throw") throw new Error("thrown");
      if (p.kind === "string") return "a string";
      if (p.kind === "undefined") return undefined;
      if (p.kind === "array") return [1, 2];
      return { pid: process.pid };
    }`,
  });
  const ok = (await client.actions.invoke({ name: "kinds", blocking: true })) as Activation;
  t.is(ok.response.status, "success");
  const pid = ok.response.result.pid;
  const warm = (await client.actions.invoke({ name: "kinds", blocking: true })) as Activation;
  t.is(warm.response.result.pid, pid, "warm container reused");
  t.is(annotation(warm, "initTime"), undefined);
  t.is(typeof annotation(ok, "initTime"), "number");

  const app = await statusOf(client.actions.invoke({ name: "kinds", blocking: true, params: { kind: "appError" } }));
  t.is(app.status, 502);
  t.is((app.error as unknown as Activation).response.status, "application error");
  t.deepEqual((app.error as unknown as Activation).response.result, { error: { reason: "no" } });

  const rejected = await statusOf(client.actions.invoke({ name: "kinds", blocking: true, params: { kind: "reject" } }));
  t.is(rejected.status, 502);
  const rejection = (rejected.error as unknown as Activation).response;
  t.is(rejection.status, "application error");
  t.is((rejection.result.error as { message: string }).message, "rejected");

  const still = (await client.actions.invoke({ name: "kinds", blocking: true })) as Activation;
  t.is(still.response.result.pid, pid, "application errors keep the container");

  const thrown = await statusOf(client.actions.invoke({ name: "kinds", blocking: true, params: { kind: "throw" } }));
  t.is(thrown.status, 502);
  const developer = (thrown.error as unknown as Activation).response;
  t.is(developer.status, "action developer error");
  t.regex(String(developer.result.error), /^An error has occurred: Error: thrown/);

  const after = (await client.actions.invoke({ name: "kinds", blocking: true })) as Activation;
  t.not(after.response.result.pid, pid, "a developer error discards the container");
  t.is(typeof annotation(after, "initTime"), "number");

  const str = await statusOf(client.actions.invoke({ name: "kinds", blocking: true, params: { kind: "string" } }));
  t.is(str.status, 502);
  t.is((str.error as unknown as Activation).response.result.error, "The action did not return a dictionary.");

  const undef = (await client.actions.invoke({
    name: "kinds",
    blocking: true,
    params: { kind: "undefined" },
  })) as Activation;
  t.deepEqual(undef.response.result, {});
  const array = await client.actions.invoke({ name: "kinds", blocking: true, params: { kind: "array" } });
  t.deepEqual(array, [1, 2]);
  const result = await client.actions.invoke({ name: "kinds", blocking: true, result: true });
  t.is(typeof (result as { pid: number }).pid, "number");
});

test("initialization failure is a developer error; whisk errors are 500", async (t) => {
  const { client, ow } = await startOw(t);
  await client.actions.create({ name: "broken", action: "function main( {" });
  const failed = await statusOf(client.actions.invoke({ name: "broken", blocking: true }));
  t.is(failed.status, 502);
  const response = (failed.error as unknown as Activation).response;
  t.is(response.status, "action developer error");
  t.regex(String(response.result.error), /^Initialization has failed due to: /);
  // A platform failure: the pool cannot provision a container once the platform stops taking work.
  await client.actions.create({ name: "fine", action: ECHO });
  await ow.platform.pool.stop();
  const whisk = await statusOf(client.actions.invoke({ name: "fine", blocking: true }));
  t.is(whisk.status, 500);
  t.is((whisk.error as unknown as Activation).response.status, "whisk internal error");
});

test("non-blocking invoke: 202 with the activation id; activation, logs and result readable", async (t) => {
  const { client, ow } = await startOw(t);
  await client.actions.create({ name: "echo", action: ECHO });
  const res = await fetch(`${ow.apiHost}/api/v1/namespaces/_/actions/echo`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(ow.auth).toString("base64")}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "world" }),
  });
  t.is(res.status, 202);
  const { activationId } = (await res.json()) as { activationId: string };
  t.is(res.headers.get("x-openwhisk-activation-id"), activationId);
  const activation = (await eventually(() => client.activations.get({ name: activationId }))) as Activation;
  t.is(activation.response.status, "success");
  const logs = (await client.activations.logs({ name: activationId })) as { logs: string[] };
  t.is(logs.logs.length, 1);
  t.regex(logs.logs[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z stdout: hello from world$/);
  const result = (await client.activations.result({ name: activationId })) as { result: { params: unknown } };
  t.deepEqual(result.result.params, { name: "world" });
  const listed = (await client.activations.list({ name: "echo" })) as Array<{ activationId: string }>;
  t.deepEqual(
    listed.map((a) => a.activationId),
    [activationId],
  );
  t.is((await statusOf(client.activations.get({ name: "0".repeat(32) }))).status, 404);
});

test("environment: __OW_* variables and the deadline", async (t) => {
  const { client, ow } = await startOw(t);
  await client.actions.create({
    name: "env",
    action: `function main() { const e = {}; for (const k of Object.keys(process.env)) if (k.startsWith("__OW_")) e[k] = process.env[k]; return e; }`,
    limits: { timeout: 5000 },
    // The key only for an action that asks for it (test/platform/exposure.test.ts: one that does not gets none).
    annotations: { "provide-api-key": true },
  });
  const before = Date.now();
  const env = (await client.actions.invoke({ name: "env", blocking: true, result: true })) as Record<string, string>;
  t.is(env.__OW_API_HOST, ow.apiHost);
  t.is(env.__OW_NAMESPACE, "guest");
  t.is(env.__OW_ACTION_NAME, "/guest/env");
  t.is(env.__OW_API_KEY, ow.auth);
  t.regex(env.__OW_ACTIVATION_ID ?? "", /^[0-9a-f]{32}$/);
  const deadline = Number(env.__OW_DEADLINE);
  t.true(deadline >= before + 5000 && deadline <= Date.now() + 5000);
});

test("timeout: the container is killed and the activation is a developer error", async (t) => {
  const { client } = await startOw(t);
  await client.actions.create({
    name: "spin",
    action: `function main(p) { if (p.spin) { for (;;) {} } return { pid: process.pid }; }`,
    // Long enough for a cold start on a loaded 2-core machine (the container's /init counts against the limit too).
    limits: { timeout: 2000 },
  });
  const { pid } = (await client.actions.invoke({ name: "spin", blocking: true, result: true })) as { pid: number };
  const started = Date.now();
  const failed = await statusOf(client.actions.invoke({ name: "spin", blocking: true, params: { spin: true } }));
  t.true(Date.now() - started < 10_000);
  t.is(failed.status, 502);
  const activation = failed.error as unknown as Activation;
  t.is(activation.response.status, "action developer error");
  t.is(activation.response.result.error, "The action exceeded its time limits of 2000 milliseconds.");
  t.is(annotation(activation, "timeout"), true);
  t.throws(() => process.kill(pid, 0), undefined, "the container process is gone");
});

test("payload and result limits: 413 for a request over 1 MB, developer error for a result over 1 MB", async (t) => {
  const { client } = await startOw(t);
  await client.actions.create({
    name: "big",
    action: `function main(p) { return p.size ? { data: "x".repeat(p.size) } : { ok: true }; }`,
  });
  const tooBig = await statusOf(
    client.actions.invoke({ name: "big", blocking: true, params: { pad: "y".repeat(1_100_000) } }),
  );
  t.is(tooBig.status, 413);
  t.regex(String(tooBig.error.error), /^Request larger than allowed: \d+ > 1048576 bytes\.$/);
  const fits = (await client.actions.invoke({
    name: "big",
    blocking: true,
    params: { pad: "y".repeat(1_000_000) },
  })) as Activation;
  t.is(fits.response.status, "success");
  const result = await statusOf(client.actions.invoke({ name: "big", blocking: true, params: { size: 1_100_000 } }));
  t.is(result.status, 502);
  const response = (result.error as unknown as Activation).response;
  t.is(response.status, "action developer error");
  t.regex(
    String(response.result.error).slice(0, 120),
    /^The action produced a response that exceeded the allowed length: \d+ > 1048576 bytes\./,
  );
});

test("parameters: package < action < invocation; final parameters cannot be overridden", async (t) => {
  const { client } = await startOw(t);
  await client.packages.create({
    name: "p",
    package: {
      parameters: [
        { key: "a", value: "package" },
        { key: "b", value: "package" },
        { key: "c", value: "package" },
      ],
    },
  });
  await client.actions.create({
    name: "p/echo",
    action: "function main(p) { return p; }",
    params: { b: "action", c: "action" },
  });
  const merged = await client.actions.invoke({
    name: "p/echo",
    blocking: true,
    result: true,
    params: { c: "invocation" },
  });
  t.deepEqual(merged, { a: "package", b: "action", c: "invocation" });
  await client.actions.update({
    name: "p/echo",
    action: "function main(p) { return p; }",
    params: { b: "action" },
    annotations: { final: true },
  });
  const refused = await statusOf(
    client.actions.invoke({ name: "p/echo", blocking: true, params: { b: "invocation" } }),
  );
  t.is(refused.status, 400);
  t.is(refused.error.error, "Request defines parameters that are not allowed (e.g., reserved properties).");
  const packageFinal = await statusOf(client.actions.invoke({ name: "p/echo", blocking: true, params: { a: "x" } }));
  t.is(packageFinal.status, 400);
  const free = await client.actions.invoke({ name: "p/echo", blocking: true, result: true, params: { d: 1 } });
  t.deepEqual(free, { a: "package", b: "action", c: "package", d: 1 });
});

test("blocking invoke answers 202 when the activation outlasts the blocking wait", async (t) => {
  const { client } = await startOw(t, { limits: { maxBlockingWaitMs: 200 } });
  await client.actions.create({
    name: "slow",
    action: `function main() { return new Promise((r) => setTimeout(() => r({ done: true }), 600)); }`,
  });
  const answer = (await client.actions.invoke({ name: "slow", blocking: true })) as {
    activationId: string;
    response?: unknown;
  };
  t.is(answer.response, undefined);
  t.regex(answer.activationId, /^[0-9a-f]{32}$/);
  const activation = (await eventually(() => client.activations.get({ name: answer.activationId }))) as Activation;
  t.deepEqual(activation.response.result, { done: true });
});

test("concurrency: one activation per container unless the action's limit says more", async (t) => {
  const { client } = await startOw(t);
  const slow = `function main() { return new Promise((r) => setTimeout(() => r({ pid: process.pid }), 300)); }`;
  await client.actions.create({ name: "single", action: slow });
  await client.actions.create({ name: "multi", action: slow, limits: { concurrency: 5 } });
  const run = (name: string) =>
    Promise.all([1, 2, 3].map(() => client.actions.invoke({ name, blocking: true, result: true }))) as Promise<
      Array<{ pid: number }>
    >;
  const single = await run("single");
  t.is(new Set(single.map((r) => r.pid)).size, 3);
  await client.actions.invoke({ name: "multi", blocking: true });
  const multi = await run("multi");
  t.is(new Set(multi.map((r) => r.pid)).size, 1);
});

test("throttles: invocations per minute and concurrent activations answer 429", async (t) => {
  const { client } = await startOw(t, { limits: { invokesPerMinute: 2, concurrent: 100 } });
  await client.actions.create({ name: "echo", action: ECHO });
  let refused: { status: number; error: Record<string, unknown> } | undefined;
  for (let attempt = 0; attempt < 2 && !refused; attempt++) {
    const minute = Math.floor(Date.now() / 60_000);
    const calls = await Promise.allSettled(
      [1, 2, 3].map(() => client.actions.invoke({ name: "echo", blocking: true })),
    );
    if (Math.floor(Date.now() / 60_000) !== minute) continue; // the window rolled over mid-test
    const rejected = calls.find((c) => c.status === "rejected");
    if (rejected) refused = await statusOf(Promise.reject(rejected.reason));
  }
  t.is(refused?.status, 429);
  t.regex(String(refused?.error.error), /^Too many requests in the last minute \(count: [34], allowed: 2\)\.$/);

  const { client: c2 } = await startOw(t, { limits: { concurrent: 1 } });
  await c2.actions.create({
    name: "slow",
    action: `function main() { return new Promise((r) => setTimeout(() => r({}), 500)); }`,
  });
  const first = c2.actions.invoke({ name: "slow", blocking: true });
  await new Promise((r) => setTimeout(r, 50));
  const second = await statusOf(c2.actions.invoke({ name: "slow", blocking: true }));
  t.is(second.status, 429);
  t.is(second.error.error, "Too many concurrent requests in flight (count: 1, allowed: 1).");
  await first;
});
