// The faults a chaos run injects into the project's own servers on this machine, and nothing else: action
// containers killed (the local OpenWhisk's children), the broker restarted (the stack's own), the store made to
// answer 429s, conflicts and lost answers, or nothing at all (a proxy in front of it). Each fault is seeded and
// stops by itself.
import { readdirSync, readFileSync } from "node:fs";
import { randomFor } from "../simulator/prng.ts";
import { restartKafka } from "../stack/lifecycle.ts";
import { conflictReply, isDocumentWrite, type StoreProxy, type StoreRequest, startStoreProxy } from "./store-proxy.ts";

/** Action containers of this process's local OpenWhisk: its child processes running the runtime proxy. */
export function actionContainers(parent = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("runtime/proxy.cjs")) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Kills one container at random every `everyMs` until `untilMs` (epoch) or stop(); counts the kills. */
export function containerKiller(seed: string, everyMs: number) {
  const random = randomFor(`${seed}:kills`);
  let killed = 0;
  let timer: NodeJS.Timeout | undefined;
  const killOne = () => {
    const pids = actionContainers();
    const pid = pids[Math.floor(random() * pids.length)];
    if (pid === undefined) return;
    try {
      process.kill(pid, "SIGKILL");
      killed += 1;
    } catch {
      // already gone
    }
  };
  return {
    get killed() {
      return killed;
    },
    /** Kills every `everyMs` for `forMs`. */
    run(forMs: number): Promise<void> {
      return new Promise((resolve) => {
        const until = Date.now() + forMs;
        timer = setInterval(() => {
          if (Date.now() >= until) {
            clearInterval(timer);
            resolve();
            return;
          }
          killOne();
        }, everyMs);
      });
    },
    stop() {
      clearInterval(timer);
    },
  };
}

export interface StoreFaultRates {
  /** Share of requests answered 429 (Cloudant past its throughput), without reaching the store. */
  tooManyRequests: number;
  /** Share of document updates answered as conflicts, without reaching the store. */
  conflicts: number;
  /** Share of requests the store carries out but whose answer is lost. */
  lostAnswers: number;
}

export interface FaultyStore extends StoreProxy {
  counts: { tooManyRequests: number; conflicts: number; lostAnswers: number; requests: number };
  /** Drops every connection for `forMs`: the store is gone, then back. */
  outage(forMs: number): Promise<void>;
  /** Whether the injected answers are on (an outage is separate). */
  setActive(active: boolean): void;
}

/**
 * A store proxy that answers 429s, conflicts on updates (a write that carries a revision: someone else changed the
 * document), and loses answers, at the given rates, from a seeded random stream, once made active.
 */
export async function faultyStore(target: string, seed: string, rates: StoreFaultRates): Promise<FaultyStore> {
  const random = randomFor(`${seed}:store`);
  const counts = { tooManyRequests: 0, conflicts: 0, lostAnswers: 0, requests: 0 };
  let active = false;
  const updatesOnly = (request: StoreRequest) => {
    if (!isDocumentWrite(request)) return false;
    const text = request.body.toString("utf8");
    // A bulk write of documents that all carry a revision, or a single PUT/DELETE of a known revision.
    if (request.url.includes("/_bulk_docs")) {
      const docs = (JSON.parse(text || "{}") as { docs?: { _rev?: string }[] }).docs ?? [];
      return docs.length > 0 && docs.every((doc) => typeof doc._rev === "string");
    }
    return request.url.includes("rev=") || text.includes('"_rev"');
  };
  const proxy = await startStoreProxy(target, {
    intercept: (request) => {
      counts.requests += 1;
      if (!active) return undefined;
      if (random() < rates.tooManyRequests) {
        counts.tooManyRequests += 1;
        return {
          status: 429,
          body: { error: "too_many_requests", reason: "You've exceeded your rate limit allowance." },
          headers: { "retry-after": "1" },
        };
      }
      if (random() < rates.conflicts && updatesOnly(request)) {
        counts.conflicts += 1;
        return conflictReply(request);
      }
      return undefined;
    },
    rewrite: (_request, _status, body) => {
      if (!active || random() >= rates.lostAnswers) return body;
      counts.lostAnswers += 1;
      return "drop";
    },
  });
  return {
    ...proxy,
    counts,
    async outage(forMs: number) {
      proxy.setDown(true);
      await new Promise((resolve) => setTimeout(resolve, forMs));
      proxy.setDown(false);
    },
    setActive(value: boolean) {
      active = value;
    },
  };
}

/** The broker restarted, kept down for `downMs`; resolves with how long Kafka was away, in ms. */
export async function brokerRestart(downMs: number, log: (line: string) => void): Promise<number> {
  const began = Date.now();
  await restartKafka(downMs, log);
  return Date.now() - began;
}
