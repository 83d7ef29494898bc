// Dead letters as a person works with them: read from the dead-letter topic, selected, shown, and replayed to the
// step's retry topic under the original key. Every replay is recorded in the store, one document per letter; the
// step's own dedup makes a second replay of the same letter a duplicate, so a letter is applied at most once.
import type { Kafka, Producer } from "kafkajs";
import { SagaError } from "../../lib/errors.ts";
import { readRange } from "../../lib/kafka/read-range.ts";
import {
  type DeadLetter,
  type OutgoingRecord,
  parseDeadLetter,
  readDocs,
  retryRecord,
  type StoreCall,
  sendWithinDeadline,
  writeDocs,
} from "../../lib/step/tools.ts";
import type { Cloudant } from "../../lib/store/client.ts";

/** A letter with where it sits on the dead-letter topic; its id is `<partition>:<offset>`. */
export interface StoredLetter {
  id: string;
  topic: string;
  partition: number;
  offset: number;
  letter: DeadLetter;
}

export interface Replay {
  at: string;
  retryTopic: string;
  key: string | null;
  by: string;
}

/** A text on one line, cut at `max` characters. */
export const oneLine = (text: string, max = 100) => {
  const flat = text.replaceAll(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export class CannotReplay extends SagaError {
  override name = "CannotReplay";
}

export class NoSuchTopic extends SagaError {
  override name = "NoSuchTopic";
}

/** Every record still kept on the topic that `parse` reads as a letter, oldest first per partition. */
export async function readKept<L>(
  kafka: Kafka,
  topic: string,
  parse: (text: string | undefined) => L | undefined,
): Promise<{ id: string; topic: string; partition: number; offset: number; letter: L }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const partitions = await (async () => {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new NoSuchTopic(`topic ${topic} does not exist: provision the system first (npm run provision)`);
    }
    return admin.fetchTopicOffsets(topic);
  })().finally(() => admin.disconnect());
  const letters = [];
  for (const { partition, low, high } of partitions) {
    if (Number(high) <= Number(low)) continue;
    const { records } = await readRange(kafka, topic, partition, Number(low), Number(high) - 1);
    for (const record of records) {
      const letter = parse(record.value?.toString("utf8"));
      if (letter)
        letters.push({ id: `${partition}:${record.offset}`, topic, partition, offset: record.offset, letter });
    }
  }
  return letters;
}

/** Every step's letter still kept on the topic. A record that is not a letter is skipped. */
export const readLetters = (kafka: Kafka, topic: string): Promise<StoredLetter[]> =>
  readKept(kafka, topic, parseDeadLetter);

export interface LetterFilter {
  step?: string;
  reason?: string;
  /** Epoch ms: letters that failed at or after it. */
  since?: number;
}

export function selectLetters(letters: StoredLetter[], filter: LetterFilter): StoredLetter[] {
  return letters.filter(
    ({ letter }) =>
      (filter.step === undefined || letter.step === filter.step) &&
      (filter.reason === undefined || letter.reason === filter.reason) &&
      (filter.since === undefined || Date.parse(letter.failedAt) >= filter.since),
  );
}

/** Where a letter's replays are recorded: one document per letter, named by its topic and place on it. */
export const replayDocId = (stored: { topic: string; id: string }) => `replay:${stored.topic}:${stored.id}`;

/** The replays recorded for these letters, by letter id. */
export async function replaysOf<R = Replay>(
  cloudant: Cloudant,
  db: string,
  letters: { topic: string; id: string }[],
): Promise<Map<string, R[]>> {
  const docs = await readDocs<{ _id: string; replays: R[] }>(cloudant, db, letters.map(replayDocId));
  return new Map(letters.map((stored) => [stored.id, docs.get(replayDocId(stored))?.replays ?? []]));
}

/** The letter's record value as it arrived: from the letter, or read back from its origin when it was truncated. */
async function originalValue(kafka: Kafka, stored: StoredLetter): Promise<unknown> {
  const { letter } = stored;
  if (!letter.recordTruncated) return letter.record;
  if (!("topic" in letter.origin)) throw new CannotReplay("its record was truncated, and it came from no topic");
  const offset = Number(letter.origin.offset);
  const { records } = await readRange(kafka, letter.origin.topic, letter.origin.partition, offset, offset);
  const value = records[0]?.value?.toString("utf8");
  if (value === undefined) {
    throw new CannotReplay(
      `its record was truncated, and the original is gone from ${letter.origin.topic} (retention)`,
    );
  }
  return value;
}

export interface ReplayIO {
  kafka: Kafka;
  producer: Producer;
  cloudant: Cloudant;
  /** The database that records replays. */
  database: string;
  store: StoreCall;
  now: () => number;
  by: string;
}

export interface ReplayOutcome {
  replayed: { stored: StoredLetter; replay: Replay }[];
  refused: { stored: StoredLetter; why: string }[];
}

/**
 * Sends each letter's record to its step's retry topic, as a first attempt, under the key it came with, in one
 * producer call; then records every replay with one bulk read and one bulk write (again for those that met a 409).
 * Refuses what a replay cannot fix: a feed payload that was malformed as a whole, a record no longer kept.
 */
export async function replayLetters(io: ReplayIO, letters: StoredLetter[]): Promise<ReplayOutcome> {
  const now = io.now();
  const at = new Date(now).toISOString();
  const refused: ReplayOutcome["refused"] = [];
  const planned: { stored: StoredLetter; replay: Replay; record: OutgoingRecord }[] = [];
  for (const stored of letters) {
    const { letter } = stored;
    if (letter.reason === "malformed-params") {
      refused.push({ stored, why: "the feed's payload was malformed as a whole; there is no record to replay" });
      continue;
    }
    let value: unknown;
    try {
      value = await originalValue(io.kafka, stored);
    } catch (err) {
      if (!(err instanceof CannotReplay)) throw err;
      refused.push({ stored, why: err.message });
      continue;
    }
    const retryTopic = letter.retryTopic ?? `${letter.step}.retry`;
    const key = "topic" in letter.origin ? letter.origin.key : null;
    const record = retryRecord(retryTopic, key, {
      step: letter.step,
      attempt: 1,
      reason: `replay of dead letter ${stored.id} (${letter.reason})`,
      notBefore: now,
      value,
    });
    planned.push({ stored, replay: { at, retryTopic, key, by: io.by }, record });
  }
  await sendWithinDeadline(
    async () => io.producer,
    planned.map((p) => p.record),
    { at: now + 60_000, reserveMs: 0 },
    { now: io.now },
  );
  await recordReplays(
    io,
    planned.map(({ stored, replay }) => ({
      docId: replayDocId(stored),
      letter: stored.id,
      step: stored.letter.step,
      replay,
    })),
  );
  return { replayed: planned.map(({ stored, replay }) => ({ stored, replay })), refused };
}

/** A replay to record: the letter's document id, the letter, whose it was, and what was done. */
export interface ReplayRecord<R> {
  docId: string;
  letter: string;
  step: string;
  replay: R;
}

/** Appends each replay to its letter's document (created on the first replay), in bulk, again after a 409. */
export async function recordReplays<R>(io: Pick<ReplayIO, "cloudant" | "database" | "store">, done: ReplayRecord<R>[]) {
  type Doc = { _id: string; _rev?: string; letter: string; step: string; replays: R[] };
  let pending = done;
  for (let round = 0; round < 5 && pending.length > 0; round += 1) {
    const current = await io.store(() =>
      readDocs<Doc>(
        io.cloudant,
        io.database,
        pending.map((item) => item.docId),
      ),
    );
    const docs = pending.map(({ docId, letter, step, replay }): Doc => {
      const found = current.get(docId);
      return found
        ? { ...found, replays: [...found.replays, replay] }
        : { _id: docId, letter, step, replays: [replay] };
    });
    const written = await io.store(() => writeDocs(io.cloudant, io.database, docs));
    pending = pending.filter(({ docId, letter }) => {
      const outcome = written.get(docId);
      if (outcome && !outcome.ok && !outcome.conflict) {
        throw new CannotReplay(`recording the replay of ${letter}: ${outcome.reason}`);
      }
      return !outcome?.ok;
    });
  }
  if (pending.length > 0) {
    throw new CannotReplay(
      `recording the replays of ${pending.map((item) => item.letter).join(", ")}: conflicts persisted`,
    );
  }
}
