// Triggers, rules and web actions through the openwhisk client and plain HTTP.
import test from "ava";
import { eventually, startOw, statusOf } from "./helpers.ts";

type Activation = {
  activationId: string;
  name: string;
  logs: string[];
  response: { status: string; result: Record<string, unknown> };
};

test("fire: 204 without an active rule, 202 with one; the trigger activation records each rule", async (t) => {
  const { client, ow } = await startOw(t);
  await client.actions.create({ name: "seen", action: "function main(p) { return p; }" });
  await client.actions.create({ name: "other", action: "function main(p) { return { other: true }; }" });
  await client.triggers.create({ name: "tick", trigger: { parameters: [{ key: "fromTrigger", value: 1 }] } });
  const auth = {
    authorization: `Basic ${Buffer.from(ow.auth).toString("base64")}`,
    "content-type": "application/json",
  };
  const fire = (body: unknown) =>
    fetch(`${ow.apiHost}/api/v1/namespaces/_/triggers/tick`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify(body),
    });

  const none = await fire({ a: 1 });
  t.is(none.status, 204);

  await client.rules.create({ name: "r1", trigger: "tick", action: "seen" });
  await client.rules.create({ name: "r2", trigger: "tick", action: "other" });
  await client.rules.disable({ name: "r2" });
  t.is(((await client.rules.get({ name: "r2" })) as { status: string }).status, "inactive");
  t.is(((await client.rules.get({ name: "r1" })) as { status: string }).status, "active");

  const fired = await fire({ a: 1 });
  t.is(fired.status, 202);
  const { activationId } = (await fired.json()) as { activationId: string };
  t.is(fired.headers.get("x-openwhisk-activation-id"), activationId);
  const triggerActivation = (await eventually(() => client.activations.get({ name: activationId }))) as Activation;
  t.is(triggerActivation.name, "tick");
  t.deepEqual(triggerActivation.response.result, { a: 1 });
  const outcomes = triggerActivation.logs.map((l) => JSON.parse(l)).sort((x, y) => x.rule.localeCompare(y.rule));
  t.is(outcomes.length, 2);
  t.like(outcomes[0], { rule: "guest/r1", action: "guest/seen", statusCode: 0, success: true });
  t.like(outcomes[1], {
    rule: "guest/r2",
    action: "guest/other",
    statusCode: 1,
    success: false,
    error: "Rule 'guest/r2' is inactive, action 'guest/other' was not activated.",
  });
  const ruleActivation = (await eventually(() =>
    client.activations.get({ name: outcomes[0].activationId }),
  )) as Activation;
  t.like(ruleActivation.response.result, { a: 1, fromTrigger: 1 });
  t.is(typeof (ruleActivation.response.result.__ow_headers as Record<string, string>)["user-agent"], "string");

  await client.rules.disable({ name: "r1" });
  t.is((await fire({})).status, 204);
  await client.rules.enable({ name: "r1" });
  await client.actions.delete({ name: "seen" });
  const orphan = await fire({});
  t.is(orphan.status, 202, "a rule whose action is gone still makes the fire accepted");
  const orphanId = ((await orphan.json()) as { activationId: string }).activationId;
  const orphanActivation = (await eventually(() => client.activations.get({ name: orphanId }))) as Activation;
  t.like(JSON.parse(orphanActivation.logs[0]!), { statusCode: 1, error: "The requested resource does not exist." });

  t.is((await statusOf(client.triggers.invoke({ name: "nope" }))).status, 404);
  t.is((await statusOf(client.rules.create({ name: "r3", trigger: "nope", action: "other" }))).status, 400);
});

test("fires per minute: 429 with OpenWhisk's message", async (t) => {
  const { client } = await startOw(t, { limits: { firesPerMinute: 1 } });
  await client.triggers.create({ name: "tick" });
  let refused: { status: number; error: Record<string, unknown> } | undefined;
  for (let attempt = 0; attempt < 2 && !refused; attempt++) {
    const minute = Math.floor(Date.now() / 60_000);
    const calls = await Promise.allSettled([
      client.triggers.invoke({ name: "tick" }),
      client.triggers.invoke({ name: "tick" }),
    ]);
    if (Math.floor(Date.now() / 60_000) !== minute) continue;
    const rejected = calls.find((c) => c.status === "rejected");
    if (rejected) refused = await statusOf(Promise.reject(rejected.reason));
  }
  t.is(refused?.status, 429);
  t.regex(String(refused?.error.error), /^Too many requests in the last minute \(count: \d+, allowed: 1\)\.$/);
});

test("web actions: http params in, {statusCode, headers, body} out; .json; not exported is 404", async (t) => {
  const { client, ow } = await startOw(t);
  await client.packages.create({ name: "site" });
  await client.actions.create({
    name: "site/hello",
    action: `function main(p) {
      return { statusCode: 201, headers: { "x-seen": p.__ow_method + " " + p.__ow_path }, body: { name: p.name, q: p.q, agent: p.__ow_headers["x-test"] } };
    }`,
    annotations: { "web-export": true },
  });
  await client.actions.create({ name: "hidden", action: "function main() { return {}; }" });
  const res = await fetch(`${ow.apiHost}/api/v1/web/guest/site/hello/extra/path?q=1`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-test": "yes" },
    body: JSON.stringify({ name: "web" }),
  });
  t.is(res.status, 201);
  t.is(res.headers.get("x-seen"), "post /extra/path");
  t.deepEqual(await res.json(), { name: "web", q: "1", agent: "yes" });
  const json = await fetch(`${ow.apiHost}/api/v1/web/guest/site/hello.json?name=j`);
  t.is(json.status, 200);
  t.like(await json.json(), { statusCode: 201, body: { name: "j" } });
  const hidden = await fetch(`${ow.apiHost}/api/v1/web/guest/default/hidden`);
  t.is(hidden.status, 404);
  const api = await fetch(`${ow.apiHost}/api/v1/web/whisk.system/apimgmt/getApi?basepath=/x`);
  t.is(api.status, 200);
});
