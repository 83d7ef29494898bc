// The embedded CouchDB-compatible server, run as its own process (couch-server.ts).
import { join } from "node:path";
import { createCloudant } from "../../lib/store/client.ts";
import type { StoreSettings } from "../../lib/store/config.ts";
import { repoRoot, stackDir } from "./paths.ts";
import { startDetached, waitUntilReady } from "./processes.ts";

const couchDir = join(stackDir, "couch");
export const couchLogFile = join(couchDir, "server.log");

export async function startCouchServer(port: number, inMemory: boolean): Promise<number> {
  const entry = join(repoRoot, "scripts/stack/couch-server.ts");
  const args = ["--import", "tsx", entry, String(port), join(couchDir, "data"), inMemory ? "memory" : "disk"];
  const pid = startDetached(process.execPath, args, couchLogFile, { cwd: repoRoot });
  await waitUntilReady({
    what: `the CouchDB-compatible server on 127.0.0.1:${port}`,
    pid,
    logFile: couchLogFile,
    // A loaded 2-core machine (a test run, a JVM starting beside it) can take this long to start tsx and PouchDB.
    timeoutMs: 90_000,
    ready: () => storeAnswers({ url: `http://127.0.0.1:${port}`, auth: { kind: "none" } }, 2_000),
  });
  return pid;
}

/** True when the server answers GET / (server information) through the Cloudant SDK within timeoutMs. */
export async function storeAnswers(settings: StoreSettings, timeoutMs: number): Promise<boolean> {
  const client = createCloudant(settings);
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  const probe = client
    .getServerInformation()
    .then((response) => response.status === 200)
    .catch(() => false);
  return Promise.race([probe, timeout]);
}
