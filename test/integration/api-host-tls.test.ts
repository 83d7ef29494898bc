// A real API host is HTTPS, often with a certificate of its own: the feed providers' client (lib/openwhisk/fire.ts)
// refuses a certificate it cannot trust, trusts one it is given (`ca`), and accepts any only when told to
// (`ignoreCerts`, as wsk -i does). The certificate is made as the stack makes its own, with the JDK's keytool.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { getTrigger } from "../../lib/openwhisk/fire.ts";
import { selfSignedKeystore } from "../../scripts/stack/certificates.ts";

async function selfSignedApiHost(t: import("ava").ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), "api-host-tls-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keystore = selfSignedKeystore(dir, "apihost", "a-test-password");
  const seen: string[] = [];
  const server = createServer({ pfx: readFileSync(keystore.file), passphrase: keystore.password }, (req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ name: "t" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, ca: readFileSync(keystore.certificate, "utf8"), seen };
}

test("a self-signed API host is refused unless its certificate is given or certificates are ignored", async (t) => {
  const host = await selfSignedApiHost(t);
  const key = "user:secret";
  const refused = await t.throwsAsync(getTrigger({ url: host.url }, key, "/guest/t"));
  t.regex(refused?.message ?? "", /self[- ]signed|certificate/i);
  t.is(host.seen.length, 0, "nothing reached the server over an untrusted connection");

  const trusted = await getTrigger({ url: host.url, ca: host.ca }, key, "/guest/t");
  t.is(trusted.status, 200);
  const ignored = await getTrigger({ url: host.url, ignoreCerts: true }, key, "/guest/t");
  t.is(ignored.status, 200);
  t.deepEqual(host.seen, [
    `GET /api/v1/namespaces/guest/triggers/t Basic ${Buffer.from(key).toString("base64")}`,
    `GET /api/v1/namespaces/guest/triggers/t Basic ${Buffer.from(key).toString("base64")}`,
  ]);
});
