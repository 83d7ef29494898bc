// What a saga costs, from the operating system's and the servers' own accounts, between two snapshots: CPU
// milliseconds of each role (this process, the platform and its feeds; the action containers it forked; the
// store; the broker), the store's requests by Cloudant's kinds, and the Kafka records produced.
import { readdirSync, readFileSync } from "node:fs";
import type { Admin } from "kafkajs";
import type { StoreSettings } from "../../lib/store/config.ts";
import { noRequests, type RequestCounts } from "../stack/store-requests.ts";

/** Linux's clock ticks a second (getconf CLK_TCK): /proc counts CPU time in them. */
const TICKS = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime, milliseconds. */
  own: number;
  /** cutime + cstime: children that ended and were reaped, milliseconds. */
  reaped: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: the fields follow its last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const at = (i: number) => Number(fields[i]);
    return { ppid: at(1), own: ((at(11) + at(12)) * 1000) / TICKS, reaped: ((at(13) + at(14)) * 1000) / TICKS };
  } catch {
    return undefined;
  }
}

/** The action containers this process forked (local/runtime/proxy.cjs), by pid: their CPU so far. */
function containers(): Map<number, number> {
  const found = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procStat(pid);
    if (stat?.ppid !== process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("proxy.cjs")) found.set(pid, stat.own);
    } catch {}
  }
  return found;
}

export interface CostSnapshot {
  platform: number;
  reaped: number;
  containers: Map<number, number>;
  store: number;
  broker: number;
  requests: RequestCounts;
  records: number;
}

export interface Roles {
  /** The stack's servers, to read their CPU from /proc. */
  storePid?: number;
  brokerPid?: number;
  store: StoreSettings;
  admin: Admin;
  topics: string[];
}

async function storeRequests(store: StoreSettings): Promise<RequestCounts> {
  const headers: Record<string, string> =
    store.auth.kind === "basic"
      ? { authorization: `Basic ${Buffer.from(`${store.auth.username}:${store.auth.password}`).toString("base64")}` }
      : {};
  const answer = await fetch(`${store.url}/_ow_saga_requests`, { headers }).catch(() => undefined);
  return answer?.ok ? ((await answer.json()) as RequestCounts) : noRequests();
}

export async function snapshot(roles: Roles): Promise<CostSnapshot> {
  const self = procStat(process.pid);
  let records = 0;
  for (const topic of roles.topics) {
    for (const { high } of await roles.admin.fetchTopicOffsets(topic)) records += Number(high);
  }
  return {
    platform: self?.own ?? 0,
    reaped: self?.reaped ?? 0,
    containers: containers(),
    store: roles.storePid ? (procStat(roles.storePid)?.own ?? 0) : 0,
    broker: roles.brokerPid ? (procStat(roles.brokerPid)?.own ?? 0) : 0,
    requests: await storeRequests(roles.store),
    records,
  };
}

export interface SagaCost {
  cpuMs: { platform: number; containers: number; store: number; broker: number; total: number };
  requests: RequestCounts;
  records: number;
}

/** Per saga, between two snapshots. A container alive at the first and gone at the second counts once, reaped. */
export function costPerSaga(before: CostSnapshot, after: CostSnapshot, sagas: number): SagaCost {
  const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const containersMs = after.reaped - before.reaped + sum(after.containers) - sum(before.containers);
  const cpu = {
    platform: after.platform - before.platform,
    containers: containersMs,
    store: after.store - before.store,
    broker: after.broker - before.broker,
  };
  const per = (n: number) => n / sagas;
  const requests = noRequests();
  for (const kind of Object.keys(requests) as (keyof RequestCounts)[])
    requests[kind] = per(after.requests[kind] - before.requests[kind]);
  return {
    cpuMs: {
      platform: per(cpu.platform),
      containers: per(cpu.containers),
      store: per(cpu.store),
      broker: per(cpu.broker),
      total: per(cpu.platform + cpu.containers + cpu.store + cpu.broker),
    },
    requests,
    records: per(after.records - before.records),
  };
}
