// Deploys serverless.yml with the real Serverless Framework 3 (serverless-openwhisk, patched at install) to an
// OpenWhisk, local or real: OW_APIHOST and OW_AUTH name it, the settings are bound from the environment.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { repoRoot } from "../stack/paths.ts";

const run = promisify(execFile);
const SERVERLESS = join(repoRoot, "node_modules/serverless/bin/serverless.js");

export interface DeployTarget {
  apiHost: string;
  auth: string;
}

/** The environment serverless runs in: only what serverless.yml binds, and a home of its own (Serverless writes its
 * state there; nothing of the user's is read or changed), with its telemetry and notices off. */
export function serverlessEnv(target: DeployTarget, settings: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: mkdtempSync(join(tmpdir(), "ow-saga-sls-")),
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
    SLS_DEPRECATION_DISABLE: "*",
    OW_APIHOST: target.apiHost,
    OW_AUTH: target.auth,
    ...settings,
  };
}

/** Runs `serverless <command>` in the repository; the environment carries what serverless.yml binds. */
export async function serverless(
  command: "deploy" | "remove" | "package",
  target: DeployTarget,
  settings: Record<string, string>,
  log: (line: string) => void,
): Promise<void> {
  const env = serverlessEnv(target, settings);
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
      `serverless ${command} failed: ${serverlessError(output.stdout ?? "", output.stderr ?? "") || output.message}`,
    );
  }
}

/**
 * What serverless said went wrong: it writes its error to stdout and only warnings to stderr. The "Error:" section
 * of either (its last), without its banners and the warning every openwhisk deploy prints; else the last lines.
 */
export function serverlessError(stdout: string, stderr: string): string {
  const lines = stripVTControlCharacters(`${stderr}\n${stdout}`)
    .split("\n")
    .map((line) => line.trimEnd())
    .filter(
      (line) =>
        line.trim() !== "" &&
        !/relying on provider "openwhisk" defined by a plugin|^\s*(Environment|Credentials|Docs|Support|Bugs):/.test(
          line,
        ),
    );
  const start = lines.findLastIndex((line) => /^\s*(✖\s*)?Error:?/.test(line));
  const said = (start >= 0 ? lines.slice(start) : lines.slice(-12)).join(" ").replace(/\s+/g, " ").trim();
  return said.length > 1_500 ? `${said.slice(0, 1_500)}…` : said;
}
