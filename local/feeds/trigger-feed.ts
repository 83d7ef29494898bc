// One trigger's Kafka feed: its consumer group on the topic, batches by time and size, fires over the REST API
// with upstream's retries, and the state a READ reports. The provider (kafka-feed.ts) creates, updates and stops it.

import type { Consumer, Kafka, KafkaMessage } from "kafkajs";
import { encodeKey, encodeValue, type FeedMessage, type Flags, TombstoneCrash } from "../../lib/feed/encode.ts";
import type { FeedKind } from "../../lib/feed/kafka-feed-rules.ts";
import { pyJsonLength } from "../../lib/feed/python.ts";
import { createKafka } from "../../lib/kafka/client.ts";
import type { KafkaSettings } from "../../lib/kafka/config.ts";
import { pinLatest } from "../../lib/kafka/offsets.ts";
import { type ApiHost, fireTrigger, shouldDisable, sleep } from "../../lib/openwhisk/fire.ts";
import type { FeedSettings } from "./feed-settings.ts";

export interface FeedConfig extends Flags {
  kind: FeedKind;
  triggerName: string;
  topic: string;
  brokers: string[];
  user?: string;
  password?: string;
  kafkaAdminUrl?: string;
  authKey: string;
}

interface Status {
  active: boolean;
  dateChanged: number;
  reason?: { kind: string; statusCode?: number; message: string };
}

export class TriggerFeed {
  private kafka: Kafka;
  private consumer?: Consumer;
  private pending: FeedMessage[] = [];
  private pendingSize = 0;
  private windowStart = 0;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private stopped = false;
  status: Status = { active: true, dateChanged: Date.now() };
  readonly uuid = crypto.randomUUID();

  constructor(
    public config: FeedConfig,
    private readonly host: { apiHost: ApiHost; log: (line: string) => void; settings: FeedSettings },
  ) {
    // messageHubFeed always speaks SASL_SSL with PLAIN (Event Streams); kafkaFeed a plain, unauthenticated Kafka.
    const sasl =
      config.kind === "messageHubFeed"
        ? { mechanism: "plain" as const, username: config.user ?? "", password: config.password ?? "" }
        : undefined;
    const settings: KafkaSettings = {
      brokers: config.brokers.map((broker) => broker.trim()),
      ssl: sasl !== undefined,
      ...(sasl ? { sasl } : {}),
      ...(sasl && host.settings.kafkaCa ? { ca: host.settings.kafkaCa } : {}),
      clientId: `openwhisk-kafka-feed${config.triggerName.replaceAll("/", "-")}`,
    };
    this.kafka = createKafka(settings);
  }

  private log(line: string): void {
    this.host.log(`[${this.config.triggerName}] ${line}`);
  }

  /** See pinLatest: where a new trigger's group starts. */
  pinLatest(): Promise<void> {
    return pinLatest(this.kafka, this.config.triggerName, this.config.topic, (line) => this.host.log(line));
  }

  /** Starts consuming again after stop() (UPDATE): the one place a stopped feed becomes wanted again. */
  async restart(): Promise<void> {
    this.stopped = false;
    await this.start();
  }

  /** Starts a consumer unless the feed was stopped meanwhile (a crash's or a replacement's restart races stop()). */
  async start(): Promise<void> {
    if (this.stopped) return;
    // A consumer this feed has let go of (stop, UPDATE, a crash) stays down: KafkaJS restarts a consumer after a
    // retriable error on its own, and stop() may come while connect() or subscribe() is still under way.
    const current = () => !this.stopped && this.consumer === consumer;
    const consumer: Consumer = this.kafka.consumer({
      groupId: this.config.triggerName,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: Math.max(100, Math.min(this.host.settings.kafkaPollMs, 1_000)),
      readUncommitted: true,
      retry: { retries: 5, restartOnFailure: async () => current() },
    });
    this.consumer = consumer;
    // KafkaJS restarts a crashed consumer only when it deems the error retriable; after a broker restart it gives
    // up on "Failed to find group coordinator" or "No broker available". The provider keeps its consumers alive:
    // start a new one, from the committed offsets, while this feed is still wanted.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || !current()) return;
      this.log(`consumer crashed (${payload.error.message}); starting a new one from the committed offsets`);
      void this.replaceConsumer(consumer);
    });
    const abandoned = async () => {
      if (current()) return false;
      await consumer.disconnect().catch(() => {});
      return true;
    };
    await consumer.connect();
    if (await abandoned()) return;
    await consumer.subscribe({ topics: [this.config.topic], fromBeginning: false });
    if (await abandoned()) return;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale() || this.stopped || consumer !== this.consumer) return;
          while (this.busy) {
            await sleep(50);
            await heartbeat().catch(() => {});
          }
          this.busy = true;
          try {
            await this.accept(batch.topic, batch.partition, message);
          } catch (err) {
            if (err instanceof TombstoneCrash) {
              this.busy = false;
              void this.crash(err);
              return;
            }
            throw err;
          } finally {
            this.busy = false;
          }
          resolveOffset(message.offset);
          await heartbeat().catch(() => {});
        }
      },
    });
    await abandoned();
  }

  /** A new consumer in place of one KafkaJS gave up on; tries again every few seconds until the broker answers. */
  private async replaceConsumer(dead: Consumer): Promise<void> {
    if (this.consumer !== dead) return;
    this.consumer = undefined;
    this.pending = [];
    this.pendingSize = 0;
    clearTimeout(this.timer);
    await dead.disconnect().catch(() => {});
    for (let attempt = 1; !this.stopped && this.status.active && this.consumer === undefined; attempt += 1) {
      await sleep(Math.min(2_000 * attempt, 10_000) * this.host.settings.kafkaRetryScale);
      if (this.stopped || this.consumer !== undefined) return;
      try {
        await this.start();
        return;
      } catch (err) {
        this.log(`restarting the consumer failed (${err}); trying again`);
        const failed = this.consumer as Consumer | undefined;
        this.consumer = undefined;
        await failed?.disconnect().catch(() => {});
      }
    }
  }

  private async accept(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const entry: FeedMessage = {
      value: encodeValue(message.value, this.config),
      topic,
      partition,
      offset: Number(message.offset),
      key: encodeKey(message.key, this.config),
    };
    const size = pyJsonLength(entry);
    const limit = this.host.settings.kafkaPayloadLimit;
    if (this.pendingSize + size > limit) {
      if (this.pending.length === 0) {
        this.log(`Single message at offset ${entry.offset} exceeds payload size limit. Skipping this message!`);
        await this.commit([entry]);
        return;
      }
      await this.flush();
    }
    if (this.pending.length === 0) this.windowStart = Date.now();
    this.pending.push(entry);
    this.pendingSize += size;
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const deadline = this.windowStart + this.host.settings.kafkaBatchMs;
    const at = Math.min(deadline, Date.now() + this.host.settings.kafkaPollMs);
    this.timer = setTimeout(() => void this.flushFromTimer(), Math.max(0, at - Date.now()));
  }

  private async flushFromTimer(): Promise<void> {
    if (this.pending.length === 0 || this.stopped) return;
    if (this.busy) {
      this.timer = setTimeout(() => void this.flushFromTimer(), 20);
      return;
    }
    this.busy = true;
    try {
      await this.flush();
    } catch (err) {
      this.log(`fire failed: ${err}`);
    } finally {
      this.busy = false;
    }
  }

  /** Fires one trigger with what was collected, retrying as the provider does; commits when done. */
  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    const messages = this.pending;
    this.pending = [];
    this.pendingSize = 0;
    if (messages.length === 0) return;
    const { kafkaMaxRetries, kafkaRetryScale } = this.host.settings;
    for (let retry = 0; ; retry++) {
      if (this.stopped) return;
      let status: number | undefined;
      try {
        status = (await fireTrigger(this.host.apiHost, this.config.authKey, this.config.triggerName, { messages }))
          .status;
        this.log(`Response status code ${status}`);
      } catch (err) {
        this.log(`Error talking to OpenWhisk: ${err}`);
      }
      if (status !== undefined && status >= 200 && status < 300) {
        await this.commit(messages);
        return;
      }
      if (status !== undefined && shouldDisable(status)) {
        await this.disable(status);
        return;
      }
      if (retry >= kafkaMaxRetries) {
        const last = messages[messages.length - 1]!;
        this.log(`Skipping ${messages.length} messages to offset ${last.offset} of partition ${last.partition}`);
        await this.commit(messages);
        return;
      }
      await sleep(2 ** (retry + 1) * 1000 * kafkaRetryScale);
    }
  }

  private async commit(messages: FeedMessage[]): Promise<void> {
    const next = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const m of messages) {
      const key = `${m.topic}:${m.partition}`;
      const offset = String(m.offset + 1);
      const old = next.get(key);
      if (!old || Number(old.offset) < Number(offset))
        next.set(key, { topic: m.topic, partition: m.partition, offset });
    }
    try {
      await this.consumer?.commitOffsets([...next.values()]);
    } catch (err) {
      this.log(`commit failed (the messages will be delivered again): ${err}`);
    }
  }

  private async disable(status: number): Promise<void> {
    this.log(`Error talking to OpenWhisk, status code ${status}; disabling the trigger`);
    this.status = {
      active: false,
      dateChanged: Date.now(),
      reason: {
        kind: "AUTO",
        statusCode: status,
        message: `Automatically disabled after receiving a ${status} status code when firing the trigger.`,
      },
    };
    await this.stop();
  }

  private async crash(err: Error): Promise<void> {
    this.log(`Uncaught exception: ${err.message}; the consumer restarts from the last committed offset`);
    this.pending = [];
    this.pendingSize = 0;
    clearTimeout(this.timer);
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect().catch(() => {});
    if (this.stopped) return;
    await sleep(10_000 * this.host.settings.kafkaRetryScale);
    if (!this.stopped && this.status.active) await this.start().catch((e: unknown) => this.log(`restart failed: ${e}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect().catch(() => {});
  }

  read(): Record<string, unknown> {
    const { config, status } = this;
    const connection =
      config.kind === "kafkaFeed"
        ? { brokers: config.brokers }
        : {
            kafka_brokers_sasl: config.brokers,
            kafka_admin_url: config.kafkaAdminUrl,
            user: config.user,
            password: config.password,
          };
    return {
      config: {
        triggerName: config.triggerName,
        topic: config.topic,
        isJSONData: config.isJSONData,
        isBinaryValue: config.isBinaryValue,
        isBinaryKey: config.isBinaryKey,
        ...connection,
      },
      status: {
        active: status.active,
        dateChanged: status.dateChanged,
        dateChangedISO: new Date(status.dateChanged).toISOString().replace(/\.\d{3}Z$/, "Z"),
        ...(status.reason ? { reason: status.reason } : {}),
      },
    };
  }
}
