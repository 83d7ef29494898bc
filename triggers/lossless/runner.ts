// One trigger's consumer: its Kafka consumer group is the trigger's name, partitions run side by side, and each
// partition's next batch starts only after the previous one settled (one entity's events stay in order). Offsets
// are committed after a batch settled, never before: a batch left unsettled (a kill, a rebalance, a stop) is
// delivered again from the last commit. A partition is this runner's only while its membership is alive: after a
// session timeout without a heartbeat (a process paused, a network gone) it no longer fires or commits.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from "kafkajs";
import { describeError } from "../../lib/errors.ts";
import { encodeKey, encodeValue, type FeedMessage } from "../../lib/feed/encode.ts";
import { pyJsonLength } from "../../lib/feed/python.ts";
import type { ApiHost } from "../../lib/openwhisk/fire.ts";
import { splitBySize } from "../../lib/split-by-size.ts";
import { type DeadBatch, deliver, LETTER_BYTES } from "./deliver.ts";
import { backoffMs, type ProviderSettings } from "./lossless-settings.ts";
import { fire, follow } from "./openwhisk-calls.ts";
import type { Registration } from "./registrations.ts";
import { Slots } from "./slots.ts";

export interface RunnerHost {
  settings: ProviderSettings;
  /** The in-flight cap over every trigger of the provider. */
  slots: Slots;
  /** The OpenWhisk the trigger lives on, and how to trust it. */
  api: ApiHost;
  /** The trigger's Kafka, and the producer its dead letters go through (both shared by the triggers of one Kafka). */
  kafka(registration: Registration): Kafka;
  producer(registration: Registration): Promise<Producer>;
  log(line: string): void;
  /** The trigger is gone, or its key refused: stop consuming for it (the registration says why). */
  retire(registration: Registration, why: "gone" | "unauthorized", reason: string): Promise<void>;
}

/** The Kafka session of a runner's consumer: without a heartbeat this long, its partitions are someone else's. */
export const SESSION_TIMEOUT_MS = 30_000;

/** Splits a partition's messages into fires no larger than the cap (a message over it goes alone). */
export const chunk = (messages: FeedMessage[], capBytes: number): FeedMessage[][] =>
  splitBySize(messages, capBytes, pyJsonLength);

/** One partition's batches waiting for delivery; the partition's fetching is paused until they are settled. */
interface PartitionQueue {
  generation: number;
  pending: FeedMessage[][];
  /** The next offset not yet queued: a fetch already under way when the partition was paused brings it again. */
  next: number;
  running: boolean;
  resume: () => void;
  resolve: (offset: string) => void;
  /** The check of what was removed before this generation's first batch: done before anything is committed. */
  checked: Promise<void>;
}

export class TriggerRunner {
  private consumer?: Consumer;
  private stopped = false;
  private starting?: Promise<void>;
  /** Bumped at every rebalance: a batch of an older generation is neither committed nor fired again. */
  private generation = 0;
  /** When the consumer last heard from its group coordinator (a heartbeat, a join). */
  private lastBeat = 0;
  /** Said once a generation: the session expired (a paused process). */
  private sessionLost = false;
  /** The group's committed offsets as the current generation began. */
  private committedAtJoin: Promise<Map<number, number>> = Promise.resolve(new Map());
  private readonly queues = new Map<number, PartitionQueue>();
  /** Records too large for any letter, as they arrived: written to the dead-letter topic on their own if need be. */
  private readonly raw = new WeakMap<FeedMessage, Buffer>();
  private heartbeat: () => Promise<void> = async () => undefined;
  private beating?: NodeJS.Timeout;
  /** The in-flight cap of this trigger: one busy trigger cannot take every slot of the provider. */
  private readonly slots: Slots;
  /** True once KafkaJS gave up on the consumer (a broker away too long): the provider starts a new runner. */
  crashed = false;

  constructor(
    readonly registration: Registration,
    /** The trigger owner's key, opened from the registration by the provider. */
    private readonly authKey: string,
    private readonly host: RunnerHost,
  ) {
    this.slots = new Slots(host.settings.maxInFlightPerTrigger);
  }

  private log(line: string) {
    this.host.log(`[${this.registration._id}] ${line}`);
  }

  /** Starts consuming; a stop() meanwhile ends it. */
  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  private async run(): Promise<void> {
    const r = this.registration;
    const consumer = this.host.kafka(r).consumer({
      groupId: r._id,
      sessionTimeout: SESSION_TIMEOUT_MS,
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
    consumer.on(consumer.events.HEARTBEAT, () => {
      this.lastBeat = Date.now();
    });
    // A rebalance: what was queued is left to the partitions' owners now, from the committed offsets.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.generation += 1;
      this.lastBeat = Date.now();
      this.sessionLost = false;
      for (const queue of this.queues.values()) queue.resume();
      this.queues.clear();
      // The first generation compares with what was committed before this consumer ran (read below).
      if (this.generation > 1) this.committedAtJoin = this.committedOffsets().catch(() => new Map());
    });
    await consumer.connect();
    if (this.stopped) return;
    this.committedAtJoin = this.committedOffsets().catch(() => new Map());
    await this.committedAtJoin;
    if (this.stopped) return;
    // From the beginning: a group CREATE pinned starts where it was pinned; a partition added since, or an offset
    // retention overtook, starts at the earliest record there is, never at the latest (that would skip records).
    await consumer.subscribe({ topics: [r.topic], fromBeginning: true });
    if (this.stopped) return;
    // Heartbeats while batches are delivered: a fire is followed as long as the actions' time limit.
    this.beating = setInterval(() => this.beat(), 3_000);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.host.settings.partitionsConcurrently,
      eachBatch: async (payload) => this.enqueue(consumer, payload),
    });
  }

  /** Stops for good, once start() has got as far as it will: no consumer is left running. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.beating);
    await this.starting?.catch(() => undefined);
    await this.consumer?.disconnect().catch(() => undefined);
  }

  /**
   * A partition's first record fetched in a generation, beyond the offset its group had committed: the records
   * between were removed (the topic's retention or compaction) before anyone delivered them. Said, never silent.
   */
  private async sayWhatWasRemoved(partition: number, first: number, committed: Promise<Map<number, number>>) {
    const from = (await committed).get(partition);
    if (from === undefined || from < 0 || first <= from) return;
    const r = this.registration;
    this.log(
      `${r.topic}/${partition}: ${first - from} records (offsets ${from}..${first - 1}) were removed by the topic's retention before they were delivered; delivering from ${first}`,
    );
  }

  /** The group's committed offsets, by partition, as a generation starts. */
  private async committedOffsets(): Promise<Map<number, number>> {
    const admin = this.host.kafka(this.registration).admin();
    await admin.connect();
    try {
      const r = this.registration;
      const [committed] = await admin.fetchOffsets({ groupId: r._id, topics: [r.topic] });
      return new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    } finally {
      await admin.disconnect();
    }
  }

  /** Whether a queue's partition is still this runner's: not stopped, not rebalanced, membership alive. */
  private owns(queue: PartitionQueue): boolean {
    return !this.stopped && this.generation === queue.generation && Date.now() - this.lastBeat < SESSION_TIMEOUT_MS;
  }

  /** Every few seconds: a heartbeat, after saying (once a generation) that the session has expired meanwhile. */
  private beat(): void {
    const silent = Date.now() - this.lastBeat;
    if (this.lastBeat > 0 && silent >= SESSION_TIMEOUT_MS && !this.sessionLost) {
      this.sessionLost = true;
      this.log(
        `no word from the group for ${Math.round(silent / 1000)} s, past the session timeout: its partitions are no longer this provider's, left to their new owners`,
      );
    }
    void this.heartbeat().catch(() => undefined);
  }

  /**
   * KafkaJS fetches the next batch of any partition only after every batch of the last fetch was handled, so a
   * partition whose batch is retried would hold up the others: the batch is queued for the partition's own worker
   * and the partition paused until its queue is settled; the other partitions keep flowing.
   */
  private enqueue(consumer: Consumer, payload: EachBatchPayload): void {
    const { batch, pause, resolveOffset, heartbeat } = payload;
    this.heartbeat = async () => {
      await heartbeat();
      this.lastBeat = Date.now();
    };
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
        checked: this.sayWhatWasRemoved(batch.partition, Number(batch.messages[0]?.offset), this.committedAtJoin),
      };
      this.queues.set(batch.partition, queue);
    } else if (!queue.running) queue.resume = pause();
    const fresh = batch.messages.filter((message) => Number(message.offset) >= queue.next);
    if (fresh.length === 0) {
      // Only records already delivered: nothing to work on, so the partition must not stay paused.
      if (!queue.running) queue.resume();
      return;
    }
    queue.next = Number(fresh.at(-1)?.offset) + 1;
    const messages = fresh.map((message) => this.feedMessage(message, batch.topic, batch.partition));
    queue.pending.push(...chunk(messages, r.batchBytes));
    if (!queue.running) {
      queue.running = true;
      void this.work(consumer, batch.topic, batch.partition, queue);
    }
  }

  private feedMessage(message: KafkaMessage, topic: string, partition: number): FeedMessage {
    const r = this.registration;
    const feedMessage: FeedMessage = {
      // A null value (a tombstone) is passed as null: unlike the provider's JSON parsing, it crashes nothing here.
      value: message.value === null ? null : encodeValue(message.value, r),
      topic,
      partition,
      offset: Number(message.offset),
      key: encodeKey(message.key, r),
    };
    if (message.value && message.value.length > LETTER_BYTES / 2) this.raw.set(feedMessage, message.value);
    return feedMessage;
  }

  /**
   * Delivers a partition's queue in order, committing after each settled batch, then lets the partition flow again.
   * While the partition is this runner's, nothing ends the work early: a failed delivery or commit is tried again.
   */
  private async work(consumer: Consumer, topic: string, partition: number, queue: PartitionQueue): Promise<void> {
    const r = this.registration;
    const target = { api: this.host.api, authKey: this.authKey, trigger: r._id };
    const owned = () => this.owns(queue);
    const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    let troubles = 0;
    await queue.checked.catch(() => undefined);
    while (queue.pending.length > 0) {
      if (!owned()) return;
      const part = queue.pending[0] as FeedMessage[];
      let release: (() => void) | undefined;
      let outcome: Awaited<ReturnType<typeof deliver>>;
      try {
        outcome = await deliver(
          { name: r._id, maxAttempts: r.maxAttempts },
          part,
          {
            // Slots are held from the fire until its actions have ended: the caps count running batches.
            fire: async (body) => {
              const own = await this.slots.take();
              const shared = await this.host.slots.take();
              release = () => {
                shared();
                own();
              };
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
            deadLetter: (letters) => this.deadLetter(letters, part),
            stillOwned: owned,
            pause,
            log: (line) => this.log(line),
          },
          this.host.settings,
        );
      } catch (err) {
        // Not the batch's fault (an answer that cannot be read, a bug): the same batch again, never skipped.
        troubles += 1;
        this.log(`${topic}/${partition} at offset ${part[0]?.offset}: delivery failed (${describeError(err)}); again`);
        await pause(backoffMs(this.host.settings, troubles));
        continue;
      }
      if (outcome.kind === "left") {
        this.log(`left ${topic}/${partition} at offset ${part[0]?.offset}: ${outcome.reason}`);
        if (outcome.why !== "moved" && !this.stopped) {
          this.stopped = true;
          await this.host.retire(r, outcome.why, outcome.reason).catch((err: unknown) => {
            this.log(`could not record why (${describeError(err)}); the provider will find it again`);
          });
        }
        return;
      }
      const last = part.at(-1) as FeedMessage;
      for (let tries = 1; ; tries += 1) {
        if (!owned()) return;
        try {
          queue.resolve(String(last.offset));
          await consumer.commitOffsets([{ topic, partition, offset: String(last.offset + 1) }]);
          break;
        } catch (err) {
          this.log(`could not commit ${topic}/${partition} at ${last.offset + 1} (${describeError(err)}); again`);
          await pause(backoffMs(this.host.settings, tries));
        }
      }
      queue.pending.shift();
      troubles = 0;
    }
    queue.running = false;
    if (owned()) queue.resume();
  }

  /**
   * One letter a send, keyed by the trigger: each fits in a Kafka record, and a batch of many letters never makes
   * one request too large for the broker. A record too large for any letter follows on its own, as it arrived.
   */
  private async deadLetter(letters: DeadBatch[], batch: FeedMessage[]): Promise<void> {
    const r = this.registration;
    const producer = await this.host.producer(r);
    for (const letter of letters) {
      await producer.send({
        topic: r.deadLetterTopic,
        acks: -1,
        messages: [{ key: letter.trigger, value: JSON.stringify(letter) }],
      });
      for (const offset of letter.omitted ?? []) {
        const message = batch.find((m) => m.offset === offset);
        const value = message ? this.raw.get(message) : undefined;
        if (!message || !value) continue;
        await producer.send({
          topic: r.deadLetterTopic,
          acks: -1,
          messages: [
            {
              key: letter.trigger,
              value,
              headers: {
                "lossless-feed": "raw-record",
                trigger: letter.trigger,
                topic: message.topic,
                partition: String(message.partition),
                offset: String(message.offset),
              },
            },
          ],
        });
      }
    }
  }
}
