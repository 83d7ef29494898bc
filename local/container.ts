// One action container: a separate Node process running local/runtime/proxy.cjs, spoken to over HTTP on its own
// 127.0.0.1 port with the runtime contract (/init, /run). Its stdout and stderr are split into activation logs at the
// runtime's sentinel lines.

import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SagaError } from "../lib/errors.ts";

const PROXY = fileURLToPath(new URL("./runtime/proxy.cjs", import.meta.url));
const SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";

export interface ContainerResponse {
  status: number;
  body: string;
}

/** Why a call to the container produced no HTTP answer. */
export class ContainerGone extends SagaError {
  override name = "ContainerGone";
  constructor(
    message: string,
    readonly reason: "exited" | "timeout" | "unreachable",
  ) {
    super(message);
  }
}

interface LogCollector {
  lines: string[];
  bytes: number;
  truncated: boolean;
  ended: { stdout: boolean; stderr: boolean };
  done: () => void;
}

let nextId = 1;

export class Container {
  readonly id = nextId++;
  readonly process: ChildProcess;
  port = 0;
  active = 0;
  lastUsed = Date.now();
  initialized = false;
  destroyed = false;
  exitInfo?: string;
  private readonly ready: Promise<void>;
  private collectors: LogCollector[] = [];
  private partial = { stdout: "", stderr: "" };
  private exitListeners: Array<() => void> = [];

  constructor(
    env: Record<string, string>,
    memoryMb: number,
    private readonly logLimitBytes: number,
  ) {
    // The action's unpacked code lives in a folder of its own, removed when the container ends however it ends.
    const codeDir = mkdtempSync(join(tmpdir(), "ow-action-"));
    this.process = fork(PROXY, [codeDir], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      execArgv: [`--max-old-space-size=${Math.max(32, memoryMb)}`],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    this.process.stdout?.setEncoding("utf8");
    this.process.stderr?.setEncoding("utf8");
    this.process.stdout?.on("data", (chunk: string) => this.onData("stdout", chunk));
    this.process.stderr?.on("data", (chunk: string) => this.onData("stderr", chunk));
    this.ready = new Promise<void>((resolve, reject) => {
      this.process.once("message", (message: unknown) => {
        const port = (message as { port?: unknown } | null)?.port;
        if (typeof port === "number" && port > 0) {
          this.port = port;
          resolve();
        } else reject(new ContainerGone("container reported no port", "unreachable"));
      });
      this.process.once("exit", (code, signal) => {
        reject(new ContainerGone(`container exited before listening (${signal ?? code})`, "exited"));
      });
      this.process.once("error", (err) => reject(new ContainerGone(err.message, "unreachable")));
    });
    this.ready.catch(() => {});
    this.process.on("exit", (code, signal) => {
      this.destroyed = true;
      rmSync(codeDir, { recursive: true, force: true });
      this.exitInfo = signal ?? String(code);
      // Let the streams drain before the collectors are told the process is gone.
      setImmediate(() => {
        for (const listener of this.exitListeners.splice(0)) listener();
        for (const collector of this.collectors.splice(0)) collector.done();
      });
    });
  }

  started(): Promise<void> {
    return this.ready;
  }

  private onData(stream: "stdout" | "stderr", chunk: string): void {
    const text = this.partial[stream] + chunk;
    const lines = text.split("\n");
    this.partial[stream] = lines.pop() ?? "";
    for (const line of lines) this.onLine(stream, line);
  }

  private onLine(stream: "stdout" | "stderr", line: string): void {
    const collector = this.collectors.find((c) => !c.ended[stream]);
    if (line === SENTINEL) {
      if (!collector) return;
      collector.ended[stream] = true;
      if (collector.ended.stdout && collector.ended.stderr) {
        this.collectors.splice(this.collectors.indexOf(collector), 1);
        collector.done();
      }
      return;
    }
    if (!collector || collector.truncated) return;
    const entry = `${new Date().toISOString()} ${stream}: ${line}`;
    collector.bytes += Buffer.byteLength(line);
    if (collector.bytes > this.logLimitBytes) {
      collector.truncated = true;
      collector.lines.push(
        `${new Date().toISOString()} stderr: Logs were truncated because the total bytes size exceeds the limit of ${this.logLimitBytes} bytes.`,
      );
      return;
    }
    collector.lines.push(entry);
  }

  /** Starts collecting the log lines of the next activation; the promise settles at the sentinels or the exit. */
  collectLogs(): { lines: string[]; finished: Promise<void> } {
    const lines: string[] = [];
    let done = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    if (this.destroyed) {
      done();
    } else {
      this.collectors.push({ lines, bytes: 0, truncated: false, ended: { stdout: false, stderr: false }, done });
    }
    return { lines, finished };
  }

  /** POSTs to the container; rejects with ContainerGone when it exits, times out or cannot be reached. */
  post(path: "/init" | "/run", body: string, timeoutMs: number): Promise<ContainerResponse> {
    return new Promise((resolve, reject) => {
      if (this.destroyed) {
        reject(new ContainerGone("container is gone", "exited"));
        return;
      }
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.exitListeners = this.exitListeners.filter((l) => l !== onExit);
        fn();
      };
      const onExit = () => finish(() => reject(new ContainerGone("container exited", "exited")));
      this.exitListeners.push(onExit);
      const timer = setTimeout(() => {
        finish(() => reject(new ContainerGone("timeout", "timeout")));
        req.destroy();
      }, timeoutMs);
      const req = request(
        {
          host: "127.0.0.1",
          port: this.port,
          path,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") })),
          );
          res.on("error", () => {});
        },
      );
      req.on("error", (err) => {
        // A connection reset while the process dies is reported as its exit.
        setTimeout(
          () => finish(() => reject(new ContainerGone(err.message, this.destroyed ? "exited" : "unreachable"))),
          50,
        );
      });
      req.end(body);
    });
  }

  /** Kills the process and waits until it has exited. */
  destroy(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) {
      this.destroyed = true;
      return Promise.resolve();
    }
    this.destroyed = true;
    return new Promise((resolve) => {
      this.process.once("exit", () => resolve());
      this.process.kill("SIGKILL");
    });
  }
}
