// The lossless feed action: CREATE, READ, UPDATE, DELETE, PAUSE and UNPAUSE of a trigger's registration. It checks
// the request, the caller's key against the trigger, and the topics, then writes the registration, its secrets
// sealed; the providers (any number of them, wherever they run) consume for what is registered. A refusal is the
// result {error}.
import type { Kafka } from "kafkajs";
import { FeedRefusal, missingTrigger, notAuthorized } from "../../lib/feed/kafka-feed-rules.ts";
import type { KafkaSettings } from "../../lib/kafka/config.ts";
import { pinLatest } from "../../lib/kafka/offsets.ts";
import { type ApiHost, feedTriggerName, getTrigger } from "../../lib/openwhisk/fire.ts";
import type { Registration, Registrations } from "./registrations.ts";
import { type KafkaConnection, validateLosslessCreate, validateLosslessUpdate } from "./rules.ts";
import type { SealedKey, TriggerSecrets } from "./sealed-key.ts";

export interface LifecycleContext {
  registrations: Registrations;
  kafka(settings: KafkaSettings): Kafka;
  /** Where the trigger lives: the caller's API host (and how to trust it) and namespace. */
  api: ApiHost;
  namespace: string;
  /** A registration's secrets sealed, and opened again, with the registrations' key. */
  seal(secrets: TriggerSecrets, trigger: string): SealedKey;
  open(sealed: SealedKey, trigger: string): TriggerSecrets;
  log(line: string): void;
}

const EVENTS = ["CREATE", "READ", "UPDATE", "DELETE", "PAUSE", "UNPAUSE"] as const;
type LifecycleEvent = (typeof EVENTS)[number];

export async function losslessLifecycle(
  params: Record<string, unknown>,
  ctx: LifecycleContext,
): Promise<Record<string, unknown>> {
  const event = params.lifecycleEvent as LifecycleEvent;
  if (!EVENTS.includes(event)) return { error: `unsupported lifecycleEvent: ${String(params.lifecycleEvent)}` };
  try {
    return await handle(event, params, ctx);
  } catch (err) {
    if (err instanceof FeedRefusal) return { error: err.message };
    throw err;
  }
}

/** The settings a provider (or the lifecycle) reaches a registration's Kafka with. */
export function kafkaSettingsOf(
  registration: { brokers: string[]; kafka?: KafkaConnection },
  password: string | undefined,
  clientId: string,
): KafkaSettings {
  const { ssl = false, ca, sasl } = registration.kafka ?? {};
  return {
    brokers: registration.brokers,
    ssl,
    clientId,
    ...(ca ? { ca } : {}),
    ...(sasl && password !== undefined ? { sasl: { ...sasl, password } } : {}),
  };
}

async function checkTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0)
      throw new FeedRefusal(400, `Topic does not exist. You must create the topic first: ${missing.join(", ")}`);
  } finally {
    await admin.disconnect();
  }
}

async function reachKafka<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof FeedRefusal) throw err;
    throw new FeedRefusal(500, `Could not connect to Kafka: ${err instanceof Error ? err.message : err}`);
  }
}

async function handle(event: LifecycleEvent, params: Record<string, unknown>, ctx: LifecycleContext) {
  const trigger = feedTriggerName(params.triggerName, ctx.namespace);
  const authKey = String(params.authKey ?? "");
  const answer = await getTrigger(ctx.api, authKey, trigger).catch(() => ({ status: 0 }));
  const readable = answer.status >= 200 && answer.status < 300;
  if (!readable && !(event === "DELETE" && answer.status === 404))
    throw notAuthorized(event === "PAUSE" || event === "UNPAUSE" ? "UPDATE" : event);

  if (event === "CREATE") {
    const { password, ...request } = validateLosslessCreate(params);
    const kafka = ctx.kafka(kafkaSettingsOf(request, password, "lossless-feed-lifecycle"));
    await reachKafka(async () => {
      await checkTopics(kafka, [request.topic, request.deadLetterTopic]);
      await pinLatest(kafka, trigger, request.topic, ctx.log);
    });
    await ctx.registrations.put({
      _id: trigger,
      ...request,
      sealed: ctx.seal({ authKey, ...(password ? { kafkaPassword: password } : {}) }, trigger),
      apiHost: ctx.api.url,
      active: true,
    });
    ctx.log(`registered the lossless feed of ${trigger} on topic ${request.topic}`);
    return { uuid: trigger };
  }
  const current = await ctx.registrations.get(trigger);
  if (!current) {
    if (event === "DELETE") return {};
    throw missingTrigger();
  }
  // The caller's key, just checked against the trigger, replaces the one kept: a rotated key takes effect here.
  const rekeyed = ({ _rev, changedAt, authKey: _plain, ...registration }: Registration) => {
    const kept = registration.sealed ? ctx.open(registration.sealed, trigger) : undefined;
    return { ...registration, sealed: ctx.seal({ ...kept, authKey }, trigger) };
  };
  switch (event) {
    case "READ": {
      const { _id, _rev, sealed: _, authKey: __, ...config } = current;
      return { config: { triggerName: _id, ...config }, status: { active: current.active, reason: current.reason } };
    }
    case "UPDATE": {
      const update = validateLosslessUpdate(params, current);
      if (update.deadLetterTopic !== current.deadLetterTopic) {
        const password = current.sealed ? ctx.open(current.sealed, trigger).kafkaPassword : undefined;
        const kafka = ctx.kafka(kafkaSettingsOf(current, password, "lossless-feed-lifecycle"));
        await reachKafka(() => checkTopics(kafka, [update.deadLetterTopic]));
      }
      await ctx.registrations.put({ ...rekeyed(current), ...update });
      return {};
    }
    case "PAUSE":
    case "UNPAUSE":
      await ctx.registrations.put({
        ...rekeyed(current),
        active: event === "UNPAUSE",
        ...(event === "PAUSE" ? { reason: "paused by its owner" } : { reason: undefined }),
      });
      return {};
    case "DELETE":
      await ctx.registrations.remove(trigger);
      return {};
  }
}
