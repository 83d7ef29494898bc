// What a chaos run watches while it runs: the feeds' consumer lag over time, and the peak memory of every process
// of the system (this process with the local OpenWhisk, the action containers, the broker, the store).
import { readFileSync } from "node:fs";
import type { Admin } from "kafkajs";
import { feedLag, topicEnds } from "../saga/quiet.ts";
import { readState } from "../stack/lifecycle.ts";
import { actionContainers } from "./faults.ts";

export interface LagSample {
  /** Seconds since the run began. */
  at: number;
  lag: number;
}

/** Samples the feeds' total lag every `everyMs`; a failed sample (the broker restarting) is skipped. */
export function lagSampler(admin: Admin, everyMs: number, began: number) {
  const samples: LagSample[] = [];
  const sample = async () => {
    try {
      samples.push({ at: Math.round((Date.now() - began) / 1000), lag: await feedLag(admin, await topicEnds(admin)) });
    } catch {
      // no answer now: the next sample tells
    }
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void sample().finally(() => {
      busy = false;
    });
  }, everyMs);
  return {
    samples,
    stop: () => clearInterval(timer),
  };
}

/** Resident memory of a process in MiB, or 0 when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

export interface PeakMemory {
  platform: number;
  containers: number;
  containersAtOnce: number;
  broker: number;
  store: number;
}

/** Samples every `everyMs` and keeps the peaks; the broker's pid is read again each time (it may be restarted). */
export function memorySampler(everyMs: number) {
  const peak: PeakMemory = { platform: 0, containers: 0, containersAtOnce: 0, broker: 0, store: 0 };
  const timer = setInterval(() => {
    const state = readState();
    const containers = actionContainers();
    peak.platform = Math.max(peak.platform, rssMiB(process.pid));
    peak.containers = Math.max(
      peak.containers,
      containers.reduce((sum, pid) => sum + rssMiB(pid), 0),
    );
    peak.containersAtOnce = Math.max(peak.containersAtOnce, containers.length);
    if (state?.kafka.server) peak.broker = Math.max(peak.broker, rssMiB(state.kafka.server.pid));
    if (state?.couch.server) peak.store = Math.max(peak.store, rssMiB(state.couch.server.pid));
  }, everyMs);
  return { peak, stop: () => clearInterval(timer) };
}
