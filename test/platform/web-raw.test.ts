// A raw-http web action over plain HTTP: the query and body reach the action unparsed, as __ow_query and __ow_body
// (a plain string for text, base64 for binary and JSON content), and neither is turned into parameters.
import test from "ava";
import { startOw } from "./helpers.ts";

const ECHO_REQUEST = `function main(p) {
  const has = (k) => Object.prototype.hasOwnProperty.call(p, k);
  return { body: {
    query: p.__ow_query, body: has("__ow_body") ? p.__ow_body : null, method: p.__ow_method, path: p.__ow_path,
    type: p.__ow_headers["content-type"] || null, a: has("a") ? p.a : null, b: has("b") ? p.b : null,
    fromAction: p.fromAction,
  } };
}`;

test("raw-http web action: __ow_query and __ow_body unparsed; text as is, JSON and binary as base64", async (t) => {
  const { client, ow } = await startOw(t);
  await client.actions.create({
    name: "raw",
    action: ECHO_REQUEST,
    params: { fromAction: "kept" },
    annotations: { "web-export": true, "raw-http": true },
  });
  await client.actions.create({ name: "parsed", action: ECHO_REQUEST, annotations: { "web-export": true } });
  const url = (name: string) => `${ow.apiHost}/api/v1/web/guest/default/${name}/x/y?a=1&b=two%20words`;

  const json = await fetch(url("raw"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ a: 2 }),
  });
  t.is(json.status, 200);
  t.deepEqual(await json.json(), {
    query: "a=1&b=two%20words",
    body: Buffer.from('{"a":2}').toString("base64"),
    method: "post",
    path: "/x/y",
    type: "application/json",
    a: null,
    b: null,
    fromAction: "kept",
  });

  const text = await fetch(url("raw"), {
    method: "PUT",
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: "héllo, raw",
  });
  t.like(await text.json(), { body: "héllo, raw", method: "put", a: null });

  const binary = await fetch(url("raw"), {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: new Uint8Array([0, 255, 1]),
  });
  t.like(await binary.json(), { body: "AP8B", type: "application/octet-stream" });

  // A web action without raw-http: the query and the JSON body become parameters, and there is no __ow_query.
  const parsed = await fetch(`${ow.apiHost}/api/v1/web/guest/default/parsed?b=two%20words`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ a: 2 }),
  });
  const fields = (await parsed.json()) as Record<string, unknown>;
  t.like(fields, { a: 2, b: "two words", body: null });
  t.false("query" in fields);
});
