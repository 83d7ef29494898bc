// Action containers clean up after themselves and refuse what no OpenWhisk would send them.
import { existsSync } from "node:fs";
import test from "ava";
import JSZip from "jszip";
import { Container } from "../../local/container.ts";
import { startOw } from "./helpers.ts";

test("a zipped action's unpacked code is removed when its container ends", async (t) => {
  const { client, ow } = await startOw(t);
  const zip = new JSZip();
  zip.file("package.json", JSON.stringify({ main: "index.js" }));
  zip.file("index.js", "exports.main = () => ({ dir: __dirname });");
  const code = await zip.generateAsync({ type: "base64" });
  await client.actions.create({ name: "zipped", action: { exec: { kind: "nodejs:20", code, binary: true } } } as never);
  const { dir } = (await client.actions.invoke({ name: "zipped", blocking: true, result: true })) as { dir: string };
  t.true(existsSync(dir), `${dir} holds the code while the container runs`);
  await ow.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.false(existsSync(dir), `${dir} is gone once the container ended`);
});

test("a request larger than any OpenWhisk would send is refused with 413, unread", async (t) => {
  const container = new Container({}, 256, 1024 * 1024);
  t.teardown(() => container.destroy());
  await container.started();
  const answer = await container.post("/init", "x".repeat(67 * 1024 * 1024), 30_000).catch((err: Error) => err);
  t.false(answer instanceof Error, String(answer));
  t.is((answer as { status: number }).status, 413);
});
