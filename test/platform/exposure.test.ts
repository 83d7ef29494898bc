// The local OpenWhisk gives a stranger no more than OpenWhisk does: require-whisk-auth checks what it names (the
// X-Require-Whisk-Auth secret in constant time, or valid credentials for true); a web request may set neither a
// final parameter (one bound to "" included) nor a reserved __ow_ property; an action is given the namespace's key
// only when it asks for it.
import test from "ava";
import { code, startOw } from "./helpers.ts";

const ECHO = code(`function main(p) {
  return { body: { user: p.__ow_user ?? null, setting: p.setting ?? null, key: process.env.__OW_API_KEY ?? null } };
}`);

const basic = (auth: string) => `Basic ${Buffer.from(auth).toString("base64")}`;

test("require-whisk-auth true: only valid credentials, and the action learns who called (__ow_user)", async (t) => {
  const { client, ow } = await startOw(t);
  await client.actions.create({
    name: "private",
    action: ECHO,
    annotations: { "web-export": true, "require-whisk-auth": true },
  });
  const url = `${ow.apiHost}/api/v1/web/guest/default/private`;
  t.is((await fetch(url)).status, 401, "no credentials");
  t.is((await fetch(url, { headers: { authorization: "Basic x" } })).status, 401, "any Authorization header");
  t.is((await fetch(url, { headers: { authorization: basic("someone:guess") } })).status, 401, "a wrong key");
  const ok = await fetch(url, { headers: { authorization: basic(ow.auth) } });
  t.is(ok.status, 200);
  t.like(await ok.json(), { user: "guest" });
});

test("require-whisk-auth as a secret: the X-Require-Whisk-Auth header must be exactly it", async (t) => {
  const { client, ow } = await startOw(t);
  const secret = "a-secret-of-some-length";
  await client.actions.create({
    name: "command",
    action: ECHO,
    annotations: { "web-export": true, "require-whisk-auth": secret },
  });
  const url = `${ow.apiHost}/api/v1/web/guest/default/command`;
  const call = (headers: Record<string, string>) => fetch(url, { headers }).then((r) => r.status);
  t.is(await call({}), 401);
  t.is(await call({ "x-require-whisk-auth": `${secret}x` }), 401);
  t.is(await call({ "x-require-whisk-auth": secret.slice(0, -1) }), 401);
  t.is(await call({ authorization: basic(ow.auth) }), 401, "OpenWhisk credentials are not the secret");
  t.is(await call({ "x-require-whisk-auth": secret }), 200);
});

test("a web request can set neither a final parameter bound to an empty string nor a reserved __ow_ property", async (t) => {
  const { client, ow } = await startOw(t);
  await client.packages.create({ name: "pkg", package: { parameters: [{ key: "setting", value: "" }] } });
  await client.actions.create({ name: "pkg/web", action: ECHO, annotations: { "web-export": true, final: true } });
  const url = `${ow.apiHost}/api/v1/web/guest/pkg/web`;
  const plain = await fetch(url);
  t.is(plain.status, 200);
  t.like(await plain.json(), { setting: "" });
  const setting = await fetch(`${url}?setting=https://evil.invalid`);
  t.is(setting.status, 400);
  t.is(setting.headers.get("x-openwhisk-activation-id"), null, "refused before any activation");
  t.is((await fetch(`${url}?__ow_headers=x`)).status, 400);
  const body = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ __ow_user: "admin" }),
  });
  t.is(body.status, 400);
});

test("an action is not given the namespace's key unless it asks for it with provide-api-key", async (t) => {
  const { client, ow } = await startOw(t);
  await client.actions.create({ name: "plain", action: ECHO });
  await client.actions.create({ name: "asks", action: ECHO, annotations: { "provide-api-key": true } });
  const plain = (await client.actions.get({ name: "plain" })) as { annotations: { key: string; value: unknown }[] };
  t.deepEqual(
    plain.annotations.find((a) => a.key === "provide-api-key"),
    { key: "provide-api-key", value: false },
    "created with provide-api-key false, as OpenWhisk's controller does",
  );
  const result = async (name: string) =>
    ((await client.actions.invoke({ name, blocking: true, result: true })) as { body: { key: string | null } }).body;
  t.is((await result("plain")).key, null);
  t.is((await result("asks")).key, ow.auth);
});
