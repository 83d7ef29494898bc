// Dead letters as a person works with them: read from the dead-letter topic, selected, shown, and replayed to the
// step's retry topic under the original key. Every replay is recorded in the store, one document per letter; the
// step's own dedup makes a second replay of the same letter a duplicate, so a letter is applied at most once.
import type { Kafka, Producer } from "kafkajs";
import { SagaError } from "../../lib/errors.ts";
import { readRange } from "../../lib/kafka/read-range.ts";
import { type DeadLetter, readDocs, retryRecord, type StoreCall, writeDocs } from "../../lib/step/index.ts";
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

interface ReplayDoc {
  _id: string;
  _rev?: string;
  letter: string;
  step: string;
  replays: Replay[];
}

export class CannotReplay extends SagaError {
  override name = "CannotReplay";
}

export class NoSuchTopic extends SagaError {
  override name = "NoSuchTopic";
}

/** Every letter still kept on the topic, oldest first per partition. A record that is not a letter is skipped. */
export async function readLetters(kafka: Kafka, topic: string): Promise<StoredLetter[]> {
  const admin = kafka.admin();
  await admin.connect();
  const partitions = await (async () => {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new NoSuchTopic(`topic ${topic} does not exist: provision the system first (npm run provision)`);
    }
    return admin.fetchTopicOffsets(topic);
  })().finally(() => admin.disconnect());
  const letters: StoredLetter[] = [];
  for (const { partition, low, high } of partitions) {
    if (Number(high) <= Number(low)) continue;
    const { records } = await readRange(kafka, topic, partition, Number(low), Number(high) - 1);
    for (const record of records) {
      const letter = parseLetter(record.value?.toString("utf8"));
      if (letter)
        letters.push({ id: `${partition}:${record.offset}`, topic, partition, offset: record.offset, letter });
    }
  }
  return letters;
}

function parseLetter(text: string | undefined): DeadLetter | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<DeadLetter>;
    return typeof value.step === "string" && typeof value.reason === "string" && value.origin
      ? (value as DeadLetter)
      : undefined;
  } catch {
    return undefined;
  }
}

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

const replayDocId = (stored: StoredLetter) => `replay:${stored.topic}:${stored.id}`;

/** The replays recorded for these letters, by letter id. */
export async function replaysOf(
  cloudant: Cloudant,
  db: string,
  letters: StoredLetter[],
): Promise<Map<string, Replay[]>> {
  const docs = await readDocs<ReplayDoc>(cloudant, db, letters.map(replayDocId));
  return new Map(letters.map((stored) => [stored.id, docs.get(replayDocId(stored))?.replays ?? []]));
}

/** The letter's record value as it arrived: from the letter, or read back from its origin when it was truncated. */
async function originalValue(kafka: Kafka, stored: StoredLetter): Promise<unknown> {
  const { letter } = stored;
  if (!letter.recordTruncated) return letter.record;
  if (!("topic" in letter.origin)) throw new CannotReplay(`${stored.id}: truncated, and it came from no topic`);
  const offset = Number(letter.origin.offset);
  const { records } = await readRange(kafka, letter.origin.topic, letter.origin.partition, offset, offset);
  const value = records[0]?.value?.toString("utf8");
  if (value === undefined) {
    throw new CannotReplay(`${stored.id}: its record is gone from ${letter.origin.topic} (retention)`);
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

/**
 * Sends the letter's record to its step's retry topic, as a first attempt, under the key it came with, and records
 * the replay. Refuses what a replay cannot fix: a feed payload that was malformed as a whole.
 */
export async function replayLetter(io: ReplayIO, stored: StoredLetter): Promise<Replay> {
  const { letter } = stored;
  if (letter.reason === "malformed-params") {
    throw new CannotReplay(`${stored.id}: the feed's payload was malformed as a whole; there is no record to replay`);
  }
  const retryTopic = letter.retryTopic ?? `${letter.step}.retry`;
  const key = "topic" in letter.origin ? letter.origin.key : null;
  const value = await originalValue(io.kafka, stored);
  const now = io.now();
  const record = retryRecord(retryTopic, key, {
    step: letter.step,
    attempt: 1,
    reason: `replay of dead letter ${stored.id} (${letter.reason})`,
    notBefore: now,
    value,
  });
  await io.producer.send({ topic: record.topic, acks: -1, messages: [{ key: record.key, value: record.value }] });
  const replay: Replay = { at: new Date(now).toISOString(), retryTopic, key, by: io.by };
  await recordReplay(io, stored, replay);
  return replay;
}

/** Appends the replay to the letter's document (created on the first replay), again after a 409. */
async function recordReplay(io: ReplayIO, stored: StoredLetter, replay: Replay): Promise<void> {
  const id = replayDocId(stored);
  for (let round = 0; round < 5; round += 1) {
    const current = (await io.store(() => readDocs<ReplayDoc>(io.cloudant, io.database, [id]))).get(id);
    const doc: ReplayDoc = current
      ? { ...current, replays: [...current.replays, replay] }
      : { _id: id, letter: stored.id, step: stored.letter.step, replays: [replay] };
    const written = (await io.store(() => writeDocs(io.cloudant, io.database, [doc]))).get(id);
    if (written?.ok) return;
    if (written && !written.conflict) throw new CannotReplay(`recording the replay of ${stored.id}: ${written.reason}`);
  }
  throw new CannotReplay(`recording the replay of ${stored.id}: conflicts persisted`);
}
