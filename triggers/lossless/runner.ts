// One trigger's consumer: its Kafka consumer group is the trigger's name, partitions run side by side, and each
// partition's next batch starts only after the previous one settled (one entity's events stay in order). Offsets
// are committed after a batch settled, never before: a batch left unsettled (a kill, a rebalance, a stop) is
// delivered again from the last commit.
import type { Consumer, EachBatchPayload, Kafka, Producer } from "kafkajs";
import { createIdempotentProducer } from "../../lib/kafka/client.ts";
import { encodeKey, encodeValue, type FeedMessage } from "../kafka-feed.ts";
import { pyJsonLength } from "../python.ts";
import { type DeadBatch, deliver } from "./deliver.ts";
import { fire, follow } from "./platform.ts";
import type { Registration } from "./registrations.ts";
import type { ProviderSettings } from "./settings.ts";
import type { Slots } from "./slots.ts";

export interface RunnerHost {
  settings: ProviderSettings;
  slots: Slots;
  kafka(registration: Registration): Kafka;
  log(line: string): void;
  /** The trigger is gone, or its key refused: stop consuming for it (the registration says why). */
  retire(registration: Registration, why: "gone" | "unauthorized", reason: string): Promise<void>;
}

/** Splits a partition's messages into fires no larger than the cap (a message over it goes alone). */
export function chunk(messages: FeedMessage[], capBytes: number): FeedMessage[][] {
  const chunks: FeedMessage[][] = [];
  let current: FeedMessage[] = [];
  let size = 0;
  for (const message of messages) {
    const bytes = pyJsonLength(message);
    if (current.length > 0 && size + bytes > capBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(message);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** One partition's batches waiting for delivery; the partition's fetching is paused until they are settled. */
interface PartitionQueue {
  generation: number;
  pending: FeedMessage[][];
  /** The next offset not yet queued: a fetch already under way when the partition was paused brings it again. */
  next: number;
  running: boolean;
  resume: () => void;
  resolve: (offset: string) => void;
}

export class TriggerRunner {
  private consumer?: Consumer;
  private producer?: Producer;
  private stopped = false;
  /** Bumped at every rebalance: a batch of an older generation is neither committed nor fired again. */
  private generation = 0;
  private readonly queues = new Map<number, PartitionQueue>();
  private heartbeat: () => Promise<void> = async () => undefined;
  private beating?: NodeJS.Timeout;
  /** True once KafkaJS gave up on the consumer (a broker away too long): the provider starts a new runner. */
  crashed = false;

  constructor(
    readonly registration: Registration,
    /** The trigger owner's key, opened from the registration by the provider. */
    private readonly authKey: string,
    private readonly host: RunnerHost,
  ) {}

  private log(line: string) {
    this.host.log(`[${this.registration._id}] ${line}`);
  }

  async start(): Promise<void> {
    const r = this.registration;
    const kafka = this.host.kafka(r);
    const consumer = kafka.consumer({
      groupId: r._id,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      // The batch window: the broker answers when it has this much, or after batchMs.
      minBytes: Math.min(r.batchBytes, 64 * 1024),
      maxWaitTimeInMs: Math.max(10, r.batchMs),
      maxBytesPerPartition: Math.max(r.batchBytes, 1_048_576),
      retry: { retries: 10, restartOnFailure: async () => !this.stopped },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped) return;
      this.log(`consumer crashed (${payload.error.message}); a new one resumes from the committed offsets`);
      this.crashed = true;
    });
    // A rebalance: what was queued is left to the partitions' owners now, from the committed offsets.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.generation += 1;
      for (const queue of this.queues.values()) queue.resume();
      this.queues.clear();
    });
    this.producer = createIdempotentProducer(kafka);
    await this.producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [r.topic], fromBeginning: false });
    // Heartbeats while batches are delivered: a fire is followed as long as the actions' time limit.
    this.beating = setInterval(() => void this.heartbeat().catch(() => undefined), 3_000);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.host.settings.partitionsConcurrently,
      eachBatch: async (payload) => this.enqueue(consumer, payload),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.beating);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }

  /**
   * KafkaJS fetches the next batch of any partition only after every batch of the last fetch was handled, so a
   * partition whose batch is retried would hold up the others: the batch is queued for the partition's own worker
   * and the partition paused until its queue is settled; the other partitions keep flowing.
   */
  private enqueue(consumer: Consumer, payload: EachBatchPayload): void {
    const { batch, pause, resolveOffset, heartbeat } = payload;
    this.heartbeat = heartbeat;
    if (this.stopped || batch.messages.length === 0) return;
    const r = this.registration;
    let queue = this.queues.get(batch.partition);
    if (!queue || queue.generation !== this.generation) {
      queue = {
        generation: this.generation,
        pending: [],
        next: -1,
        running: false,
        resume: pause(),
        resolve: resolveOffset,
      };
      this.queues.set(batch.partition, queue);
    } else if (!queue.running) queue.resume = pause();
    const fresh = batch.messages.filter((message) => Number(message.offset) >= queue.next);
    if (fresh.length === 0) return;
    queue.next = Number(fresh.at(-1)?.offset) + 1;
    const messages: FeedMessage[] = fresh.map((message) => ({
      // A null value (a tombstone) is passed as null: unlike the provider's JSON parsing, it crashes nothing here.
      value: message.value === null ? null : encodeValue(message.value, r),
      topic: batch.topic,
      partition: batch.partition,
      offset: Number(message.offset),
      key: encodeKey(message.key, r),
    }));
    queue.pending.push(...chunk(messages, r.batchBytes));
    if (!queue.running) {
      queue.running = true;
      void this.work(consumer, batch.topic, batch.partition, queue);
    }
  }

  /** Delivers a partition's queue in order, committing after each settled batch, then lets the partition flow again. */
  private async work(consumer: Consumer, topic: string, partition: number, queue: PartitionQueue): Promise<void> {
    const r = this.registration;
    const target = { apiHost: r.apiHost, authKey: this.authKey, trigger: r._id };
    const owned = () => !this.stopped && this.generation === queue.generation;
    while (queue.pending.length > 0) {
      const part = queue.pending[0] as FeedMessage[];
      let release: (() => void) | undefined;
      const outcome = await deliver(
        { name: r._id, maxAttempts: r.maxAttempts },
        part,
        {
          // A slot is held from the fire until its actions have ended: the cap counts running batches.
          fire: async (body) => {
            release = await this.host.slots.take();
            const fired = await fire(target, body).catch((err: unknown) => {
              release?.();
              throw err;
            });
            if (fired.kind !== "fired") release();
            return fired;
          },
          follow: async (activationId) => {
            try {
              return await follow(target, activationId, Date.now() + this.host.settings.followTimeoutMs);
            } finally {
              release?.();
            }
          },
          deadLetter: (dead) => this.deadLetter(dead),
          stillOwned: owned,
          pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          log: (line) => this.log(line),
        },
        this.host.settings,
      ).catch((err: unknown) => ({ kind: "left" as const, why: "moved" as const, reason: String(err) }));
      if (outcome.kind === "left") {
        this.log(`left ${topic}/${partition} at offset ${part[0]?.offset}: ${outcome.reason}`);
        if (outcome.why !== "moved" && !this.stopped) {
          this.stopped = true;
          await this.host.retire(r, outcome.why, outcome.reason).catch(() => undefined);
        }
        return;
      }
      if (!owned()) return;
      const last = part.at(-1) as FeedMessage;
      try {
        queue.resolve(String(last.offset));
        await consumer.commitOffsets([{ topic, partition, offset: String(last.offset + 1) }]);
      } catch (err) {
        // Not committed: after the rebalance under way, the partition's owner delivers the batch again.
        this.log(`could not commit ${topic}/${partition} at ${last.offset + 1} (${err}); it will be delivered again`);
        return;
      }
      queue.pending.shift();
    }
    queue.running = false;
    if (owned()) queue.resume();
  }

  private async deadLetter(letters: DeadBatch[]): Promise<void> {
    // Keyed by the trigger, so a batch's letters share a partition and one request writes them all or none.
    await this.producer?.send({
      topic: this.registration.deadLetterTopic,
      acks: -1,
      messages: letters.map((letter) => ({ key: letter.trigger, value: JSON.stringify(letter) })),
    });
  }
}
