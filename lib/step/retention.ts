// What an entity remembers, bounded by time and count: the keys of the events it applied, and whatever a handler
// keeps per work order or per request. Entries are `[id, epoch ms]` pairs kept oldest first, as they are added, so
// pruning drops from the front. A list rather than a map: a state is copied for every event, and copying a list of
// a thousand pairs is cheap where copying an object of a thousand keys costs about a millisecond.
import type { Retention } from "./spec.ts";

const cutoff = (now: number, retention: Retention) => now - retention.windowMs;

/** How many entries, from the oldest, fall outside the window or the count. */
function toDrop(list: [string, number][], now: number, retention: Retention): number {
  let drop = Math.max(0, list.length - retention.maxKeysPerEntity);
  while (drop < list.length && (list[drop]?.[1] ?? 0) <= cutoff(now, retention)) drop += 1;
  return drop;
}

export type Memory = [string, number][];

export const remembers = (memory: Memory, id: string) => memory.some(([known]) => known === id);

/** The memory with `id` added at `at`, pruned to the retention window and count. */
export function remember(memory: Memory, id: string, at: number, retention: Retention): Memory {
  const next: Memory = [...memory, [id, at]];
  const drop = toDrop(next, at, retention);
  return drop === 0 ? next : next.slice(drop);
}

/** The memory pruned to the window and count. */
export function keepNewest(memory: Memory, now: number, retention: Retention): Memory {
  const drop = toDrop(memory, now, retention);
  return drop === 0 ? memory : memory.slice(drop);
}

/** Applied keys as stored: a Memory, or (documents written before 0.2) a map of digest -> epoch ms. */
export function asMemory(stored: Memory | Record<string, number> | undefined): Memory {
  if (stored === undefined) return [];
  if (Array.isArray(stored)) return stored;
  return Object.entries(stored).sort((a, b) => a[1] - b[1]);
}
