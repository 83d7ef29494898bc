// Coverage: which offsets of each topic-partition a step has taken responsibility for (landed, or sent on). The
// feed commits a batch's offsets when OpenWhisk accepts the fire, whether or not an activation ever lands it: an
// activation killed while it starts, a fire answered 204 during a redeploy, an activation throttled after the 202,
// a batch the provider skipped. Offsets committed but not covered are such a batch. Pure functions: the sweeper
// (lib/step/sweeper.ts) does the reading and the re-sending.
import type { RecordOrigin } from "./letters.ts";

/** Inclusive runs of offsets, ascending. */
export type Runs = [number, number][];

/** "topic:partition" -> the runs of offsets covered. */
export type Ranges = Record<string, Runs>;

export const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

/** The offsets of these records as runs per topic-partition (direct invocations have none). */
export function rangesOf(origins: RecordOrigin[]): Ranges {
  const offsets = new Map<string, number[]>();
  for (const origin of origins) {
    if (!("topic" in origin)) continue;
    const key = partitionKey(origin.topic, origin.partition);
    offsets.set(key, [...(offsets.get(key) ?? []), Number(origin.offset)]);
  }
  const ranges: Ranges = {};
  for (const [key, list] of offsets) ranges[key] = mergeRuns(list.map((offset) => [offset, offset]));
  return ranges;
}

/** Runs sorted and joined where they touch or overlap. */
export function mergeRuns(runs: Runs): Runs {
  const sorted = [...runs].sort((a, b) => a[0] - b[0]);
  const merged: Runs = [];
  for (const [from, to] of sorted) {
    const last = merged.at(-1);
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

export interface Gap {
  from: number;
  /** Inclusive. */
  to: number;
}

/**
 * Walks from `next` (every offset below it is accounted for) over the covered runs, up to `committed` (the first
 * offset the feed has not committed). Returns how far coverage reaches without a hole, and the first hole below the
 * committed offset, if any.
 */
export function walk(next: number, committed: number, runs: Runs): { next: number; gap?: Gap } {
  let position = next;
  for (const [from, to] of mergeRuns(runs)) {
    if (to < position) continue;
    if (from > position) break;
    position = to + 1;
  }
  if (position >= committed) return { next: position };
  const after = mergeRuns(runs).find(([from]) => from > position);
  return { next: position, gap: { from: position, to: Math.min(after ? after[0] : committed, committed) - 1 } };
}

/** Every uncovered range from `next` up to `committed`, and how far the offsets reach (`committed` at most). */
export function gapsIn(next: number, committed: number, runs: Runs): Gap[] {
  const gaps: Gap[] = [];
  const covered = [...runs];
  let position = next;
  for (;;) {
    const walked = walk(position, committed, covered);
    if (!walked.gap) return gaps;
    gaps.push(walked.gap);
    covered.push([walked.gap.from, walked.gap.to]);
    position = walked.gap.to + 1;
  }
}

/** An uncovered range and when it was first seen. */
export interface TimedGap extends Gap {
  since: number;
}

/**
 * A gap split by what was remembered of it: parts seen before keep their first-seen time, parts new to this look
 * are seen `now`. So a range that grows is never sent before its own grace period has passed.
 */
export function piecesOf(gap: Gap, remembered: TimedGap[], now: number): TimedGap[] {
  const pieces: TimedGap[] = [];
  let position = gap.from;
  for (const known of [...remembered].sort((a, b) => a.from - b.from)) {
    if (known.to < position || known.from > gap.to) continue;
    if (known.from > position) pieces.push({ from: position, to: known.from - 1, since: now });
    const to = Math.min(known.to, gap.to);
    pieces.push({ from: Math.max(known.from, position), to, since: known.since });
    position = to + 1;
  }
  if (position <= gap.to) pieces.push({ from: position, to: gap.to, since: now });
  return pieces;
}
