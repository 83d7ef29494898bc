// Deploys serverless.yml with the real Serverless Framework 3 (serverless-openwhisk, patched at install) to an
// OpenWhisk, local or real: OW_APIHOST and OW_AUTH name it, the settings are bound from the environment.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../stack/paths.ts";

const run = promisify(execFile);
const SERVERLESS = join(repoRoot, "node_modules/serverless/bin/serverless.js");

export interface DeployTarget {
  apiHost: string;
  auth: string;
}

/** Runs `serverless <command>` in the repository; the environment carries what serverless.yml binds. */
export async function serverless(
  command: "deploy" | "remove" | "package",
  target: DeployTarget,
  settings: Record<string, string>,
  log: (line: string) => void,
): Promise<void> {
  const env = {
    PATH: process.env.PATH ?? "",
    // A home of its own: Serverless writes its state there; nothing of the user's is read or changed.
    HOME: mkdtempSync(join(tmpdir(), "ow-saga-sls-")),
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
    SLS_DEPRECATION_DISABLE: "*",
    OW_APIHOST: target.apiHost,
    OW_AUTH: target.auth,
    ...settings,
  };
  try {
    const { stdout } = await run(process.execPath, [SERVERLESS, command], { cwd: repoRoot, env, timeout: 300_000 });
    for (const line of stdout
      .split("\n")
      .filter((l) => /^(Deploying|Deployed|Removing|Removed|Binding|Unbinding)/.test(l))) {
      log(`  ${line}`);
    }
  } catch (err) {
    const output = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `serverless ${command} failed: ${(output.stderr || output.stdout || output.message).trim().slice(-2000)}`,
    );
  }
}
