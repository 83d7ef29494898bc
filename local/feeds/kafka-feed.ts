// /whisk.system/messaging/messageHubFeed and /whisk.system/messaging/kafkaFeed on a real Kafka, behaving as
// apache/openwhisk-package-kafka's provider does: the same refusals (lib/feed/kafka-feed-rules.ts) and encoding
// (lib/feed/encode.ts); messageHubFeed checks its credentials with the Event Streams admin API and consumes over
// SASL_SSL, kafkaFeed consumes a plain Kafka; consumer group = the trigger's "/ns/name", starting at the latest
// offset, batches of about 2 s capped at about 900 KB of JSON, offsets committed once the fire is accepted (2xx, 204
// included), 429/408/409/5xx/network errors retried 6 times (2, 4, ... 64 s) then skipped and committed, any other
// 4xx disabling the trigger.

import {
  adminToken,
  adminTopicsUrl,
  type CreateRequest,
  checkAdminAnswer,
  type FeedKind,
  FeedRefusal,
  missingTrigger,
  notAuthorized,
  validateCreate,
  validateUpdate,
} from "../../lib/feed/kafka-feed-rules.ts";
import { type ApiHost, feedTriggerName, getTrigger } from "../../lib/openwhisk/fire.ts";
import type { BuiltinContext } from "../entities.ts";
import type { ProviderHost } from "../server.ts";
import { FeedProvider } from "./provider.ts";
import { TriggerFeed } from "./trigger-feed.ts";

/** GET {kafka_admin_url}/admin/topics with the Event Streams token: the answer, or undefined when none came. */
async function askAdmin(request: CreateRequest): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(adminTopicsUrl(request.kafkaAdminUrl ?? ""), {
      headers: { "X-Auth-Token": adminToken(request.user ?? "", request.password ?? "") },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

const EVENTS = ["CREATE", "READ", "UPDATE", "DELETE"] as const;
type LifecycleEvent = (typeof EVENTS)[number];

export class KafkaFeedProvider extends FeedProvider {
  private readonly feeds = new Map<string, TriggerFeed>();

  protected registerActions(host: ProviderHost): void {
    const feeds: [FeedKind, string][] = [
      ["messageHubFeed", "Fire a trigger for the messages of an IBM Event Streams (Message Hub) topic"],
      ["kafkaFeed", "Fire a trigger for the messages of an Apache Kafka topic"],
    ];
    for (const [kind, description] of feeds) {
      host.registerBuiltin("messaging", kind, (params, ctx) => this.lifecycle(kind, params, ctx), [
        { key: "feed", value: true },
        { key: "description", value: description },
      ]);
    }
  }

  /** The feeds by trigger name, for tests and status pages. */
  get(triggerName: string): TriggerFeed | undefined {
    return this.feeds.get(triggerName);
  }

  /** As upstream's feed action: a refusal is the result `{error: <what its web action answered>}`. */
  private async lifecycle(
    kind: FeedKind,
    params: Record<string, unknown>,
    ctx: BuiltinContext,
  ): Promise<Record<string, unknown>> {
    const event = params.lifecycleEvent;
    if (!EVENTS.includes(event as LifecycleEvent)) return { error: "unsupported lifecycleEvent" };
    try {
      return await this.handle(kind, event as LifecycleEvent, params, ctx);
    } catch (err) {
      if (err instanceof FeedRefusal) return { error: err.message };
      throw err;
    }
  }

  private async handle(
    kind: FeedKind,
    event: LifecycleEvent,
    params: Record<string, unknown>,
    ctx: BuiltinContext,
  ): Promise<Record<string, unknown>> {
    const host = this.host;
    const apiHost: ApiHost = { url: host.apiHost, ...(host.ca ? { ca: host.ca } : {}) };
    const triggerName = feedTriggerName(params.triggerName, ctx.namespace);
    const authKey = String(params.authKey ?? "");
    const authorize = async () => {
      const res = await getTrigger(apiHost, authKey, triggerName).catch(() => ({ status: 0 }));
      // DELETE tolerates a trigger that is gone already; every other event needs to read it.
      if (res.status >= 200 && res.status < 300) return;
      if (event === "DELETE" && res.status === 404) return;
      throw notAuthorized(event);
    };
    if (event === "CREATE") {
      const request = validateCreate(kind, params);
      await authorize();
      if (kind === "messageHubFeed") checkAdminAnswer(await askAdmin(request), request.topic);
      // Upstream does not refuse a trigger it has already: it replaces its feed and answers a new uuid.
      await this.feeds.get(triggerName)?.stop();
      const feed = new TriggerFeed(
        {
          kind,
          triggerName,
          topic: request.topic,
          brokers: request.brokers,
          user: request.user,
          password: request.password,
          kafkaAdminUrl: request.kafkaAdminUrl,
          isJSONData: request.isJSONData,
          isBinaryValue: request.isBinaryValue,
          isBinaryKey: request.isBinaryKey,
          authKey,
        },
        { apiHost, log: host.log, settings: this.settings },
      );
      try {
        await feed.pinLatest();
        await feed.start();
      } catch (err) {
        await feed.stop();
        throw new FeedRefusal(500, `Could not connect to Kafka: ${err instanceof Error ? err.message : err}`);
      }
      this.feeds.set(triggerName, feed);
      ctx.log(`created the ${kind} of ${triggerName} on topic ${request.topic}`);
      return { uuid: feed.uuid };
    }
    await authorize();
    const feed = this.feeds.get(triggerName);
    if (!feed || feed.config.kind !== kind) throw missingTrigger();
    if (event === "READ") return feed.read();
    if (event === "UPDATE") {
      const flags = validateUpdate(triggerName, { ...feed.config, active: feed.status.active }, params);
      // The provider restarts the consumer; it resumes from the committed offsets.
      await feed.stop();
      feed.config = { ...feed.config, ...flags };
      await feed.restart();
      return {};
    }
    this.feeds.delete(triggerName);
    await feed.stop();
    return {};
  }

  async stop(): Promise<void> {
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.allSettled(feeds.map((f) => f.stop()));
  }
}
