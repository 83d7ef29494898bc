// Starting, watching and stopping the stack's server processes.

import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { dirname } from "node:path";
import { SagaError } from "../../lib/errors.ts";

export class StackError extends SagaError {
  override name = "StackError";
}

/** Starts a long-lived server in its own process group, with output appended to logFile. */
export function startDetached(
  command: string,
  args: string[],
  logFile: string,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): number {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, "a");
  const child = spawn(command, args, { detached: true, stdio: ["ignore", out, out], ...options });
  closeSync(out);
  if (child.pid === undefined) throw new StackError(`could not start ${command}`);
  child.unref();
  return child.pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Stops a process group started by startDetached: SIGTERM, then SIGKILL after graceMs. */
export async function stopGroup(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const until = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < until) await sleep(100);
  if (isAlive(pid)) signal("SIGKILL");
  while (isAlive(pid)) await sleep(50);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when nothing listens on 127.0.0.1:port and we may bind it. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

export function isListening(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Polls `ready` until it resolves true, the process dies or the timeout passes.
 * On failure the process group is stopped (nothing half-started stays behind) and the message carries the end of
 * the server's log, which usually says why.
 */
export async function waitUntilReady(opts: {
  what: string;
  pid: number;
  logFile: string;
  timeoutMs: number;
  ready: () => Promise<boolean>;
}): Promise<void> {
  const until = Date.now() + opts.timeoutMs;
  while (Date.now() < until) {
    if (!isAlive(opts.pid)) throw new StackError(`${opts.what} exited during start-up:\n${tail(opts.logFile)}`);
    if (await opts.ready().catch(() => false)) return;
    await sleep(250);
  }
  await stopGroup(opts.pid);
  throw new StackError(`${opts.what} was not ready after ${opts.timeoutMs / 1000} s:\n${tail(opts.logFile)}`);
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
