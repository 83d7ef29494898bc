// The Docker profile's compose files, checked as Docker Compose reads them (Debian's docker-compose validates without
// a Docker engine; this project's machines have none, so nothing here starts a container).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import test from "ava";

const run = promisify(execFile);
const FILE = "docker/compose.yml";

async function compose(env: Record<string, string>) {
  return run("docker-compose", ["-f", FILE, "config", "-q"], { env: { PATH: process.env.PATH ?? "", ...env } }).then(
    () => ({ ok: true, stderr: "" }),
    (err: { code?: number | string; stderr?: string }) => {
      if (err.code === "ENOENT")
        throw new Error("docker-compose is not installed: apt-get install docker-compose (.ci/run does)");
      return { ok: false, stderr: err.stderr ?? "" };
    },
  );
}

test("the compose file is valid, and names each setting it needs when one is missing", async (t) => {
  const settings = { COUCHDB_PASSWORD: "p", WHISK_SYSTEM_AUTH: "u:k" };
  t.deepEqual(await compose(settings), { ok: true, stderr: "" });
  const missing = await compose({ WHISK_SYSTEM_AUTH: "u:k" });
  t.false(missing.ok);
  t.regex(missing.stderr, /set COUCHDB_PASSWORD/);
  t.regex((await compose({ COUCHDB_PASSWORD: "p" })).stderr, /set WHISK_SYSTEM_AUTH/);
});

test("the services the profile promises are there: Kafka 3.9, CouchDB 3, OpenWhisk with both feed providers", async (t) => {
  const { stdout } = await run("docker-compose", ["-f", FILE, "config"], {
    env: { PATH: process.env.PATH ?? "", COUCHDB_PASSWORD: "p", WHISK_SYSTEM_AUTH: "u:k" },
  });
  t.regex(stdout, /image: apache\/kafka:3\.9\.\d+/);
  t.regex(stdout, /image: couchdb:3\.\d+\.\d+/);
  t.regex(stdout, /image: openwhisk\/standalone/);
  t.regex(stdout, /image: openwhisk\/alarmprovider/);
  t.regex(stdout, /image: openwhisk\/kafkaprovider/);
  t.regex(stdout, /container-args\.network=owsaga/, "actions join the profile's network");
});
