// The embedded CouchDB-compatible server, run as its own process (couch-server.ts). Like CouchDB 3, it answers only
// its admin (but for GET /): the credentials are made once in .stack/couch/admin.json (mode 0600), handed to the
// server in its environment, and every command beside the stack finds them there (clientEnv, withRunningStack).
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { statusOf } from "../../lib/errors.ts";
import { isTransientStoreError, retryWithinDeadline } from "../../lib/step/tools.ts";
import { createCloudant } from "../../lib/store/client.ts";
import type { StoreSettings } from "../../lib/store/config.ts";
import { repoRoot, stackDir } from "./paths.ts";
import { StackError, startDetached, waitUntilReady } from "./processes.ts";

const couchDir = join(stackDir, "couch");
export const couchLogFile = join(couchDir, "server.log");
const adminFile = join(couchDir, "admin.json");

export interface CouchAdmin {
  username: string;
  password: string;
}

/** The store's admin, made on first use and kept (an on-disk store keeps its data across restarts). */
export function couchAdmin(): CouchAdmin {
  if (existsSync(adminFile)) {
    chmodSync(adminFile, 0o600);
    return JSON.parse(readFileSync(adminFile, "utf8")) as CouchAdmin;
  }
  mkdirSync(couchDir, { recursive: true });
  const admin = { username: "admin", password: randomBytes(18).toString("base64url") };
  writeFileSync(adminFile, JSON.stringify(admin), { mode: 0o600 });
  return admin;
}

export async function startCouchServer(port: number, inMemory: boolean): Promise<number> {
  const entry = join(repoRoot, "scripts/stack/couch-server.ts");
  const args = ["--import", "tsx", entry, String(port), join(couchDir, "data"), inMemory ? "memory" : "disk"];
  const admin = couchAdmin();
  const pid = startDetached(process.execPath, args, couchLogFile, {
    cwd: repoRoot,
    env: { ...process.env, COUCH_ADMIN_USERNAME: admin.username, COUCH_ADMIN_PASSWORD: admin.password },
  });
  await waitUntilReady({
    what: `the CouchDB-compatible server on 127.0.0.1:${port}`,
    pid,
    logFile: couchLogFile,
    // A loaded 2-core machine (a test run, a JVM starting beside it) can take this long to start tsx and PouchDB.
    timeoutMs: 90_000,
    ready: () => storeAnswers({ url: `http://127.0.0.1:${port}`, auth: { kind: "basic", ...admin } }, 2_000),
  });
  return pid;
}

/**
 * True when the server answers GET / (server information) through the Cloudant SDK within timeoutMs. A 429, a 5xx
 * or no answer is tried again (Retry-After honoured) until the time is up; refused credentials are said at once.
 */
export async function storeAnswers(settings: StoreSettings, timeoutMs: number): Promise<boolean> {
  const client = createCloudant(settings);
  const probe = async () => {
    const response = await client.getServerInformation();
    if (response.status !== 200) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status });
  };
  try {
    await retryWithinDeadline(() => withTimeout(probe(), Math.min(timeoutMs, 5_000)), {
      deadline: { at: Date.now() + timeoutMs, reserveMs: 0 },
      now: Date.now,
      isTransient: isTransientStoreError,
    });
    return true;
  } catch (err) {
    const status = statusOf(err);
    if (status === 401 || status === 403)
      throw new StackError(
        `${settings.url} refused the credentials (${status}): check CLOUDANT_APIKEY or CLOUDANT_USERNAME/PASSWORD`,
      );
    return false;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
