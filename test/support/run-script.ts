// Runs a command script with tsx, as npm run would, or a bin as npx would, and collects what it printed.
import { spawn } from "node:child_process";

export type Ran = { code: number | null; stdout: string; stderr: string };

function run(nodeArgs: string[], env: NodeJS.ProcessEnv, input?: string) {
  return new Promise<Ran>((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, { env, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

export const runScript = (script: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string) =>
  run(["--import", "tsx", script, ...args], env, input);

/** A package.json bin, run by node itself (its shebang's interpreter). */
export const runBin = (bin: string, args: string[], env: NodeJS.ProcessEnv = process.env) => run([bin, ...args], env);
