// Each test starts its own local OpenWhisk on an ephemeral port and stops it; clients are the real ones.
import type { ExecutionContext } from "ava";
import openwhisk from "openwhisk";
import type { LocalOptionsInput } from "../../local/config.ts";
import { AlarmProvider, type FeedSettings, KafkaFeedProvider } from "../../local/feeds/index.ts";
import { type LocalOpenWhisk, startLocalOpenWhisk } from "../../local/server.ts";

export interface Started {
  ow: LocalOpenWhisk;
  client: ReturnType<typeof openwhisk>;
  /** The client's feed calls, typed as the client really takes them (its typings lack feedName, get, update). */
  feeds: FeedsApi;
  kafkaFeed: KafkaFeedProvider;
}

interface FeedOptions {
  feedName: string;
  trigger: string;
  params?: Record<string, unknown>;
}

export interface FeedsApi {
  create(options: FeedOptions): Promise<unknown>;
  get(options: FeedOptions): Promise<{ response: { result: Record<string, unknown> } }>;
  update(options: FeedOptions): Promise<unknown>;
  delete(options: FeedOptions): Promise<unknown>;
}

/** The platform's options, and the feeds' settings (`feeds`), which go to the providers. */
export async function startOw(
  t: ExecutionContext,
  { feeds, ...options }: LocalOptionsInput & { feeds?: Partial<FeedSettings> } = {},
): Promise<Started> {
  const kafkaFeed = new KafkaFeedProvider(feeds);
  const ow = await startLocalOpenWhisk({ port: 0, ...options }, [kafkaFeed, new AlarmProvider(feeds)]);
  t.teardown(() => ow.stop());
  const client = openwhisk({ apihost: ow.apiHost, api_key: ow.auth });
  return { ow, client, feeds: client.feeds as unknown as FeedsApi, kafkaFeed };
}

/** An action's code as plain text (`exec.code`), `main` exported as OpenWhisk's Node runtime expects. */
export const code = (body: string) => body;

/** Polls until check returns a value (not undefined) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000, every = 100): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  throw new Error(`condition not met within ${ms} ms${last ? `: ${last}` : ""}`);
}

/** The HTTP status of a failed openwhisk client call. */
export async function statusOf(p: Promise<unknown>): Promise<{ status: number; error: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    const e = err as { statusCode?: number; error?: Record<string, unknown> };
    return { status: e.statusCode ?? 0, error: e.error ?? {} };
  }
  throw new Error("expected the call to fail");
}

export type FeedActivation = {
  activationId: string;
  name: string;
  response: { status: string; result: Record<string, unknown> };
};

/** What serverless deploy and `wsk trigger create --feed` do: the trigger with its feed annotation, then CREATE. */
export async function feedTrigger(
  s: Started,
  name: string,
  feed: string,
  params: Record<string, unknown>,
): Promise<void> {
  await s.client.triggers.create({ name, trigger: { annotations: [{ key: "feed", value: feed }] } });
  await s.feeds.create({ feedName: feed, trigger: name, params });
}

/** An action's activations, oldest first. */
export async function activationsOf(s: Started, name: string): Promise<FeedActivation[]> {
  const list = (await s.client.activations.list({ name, docs: true, limit: 200 })) as unknown as FeedActivation[];
  return list.reverse();
}

/** The error text of a feed lifecycle call the feed action refused (502 with the activation). */
export async function feedError(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (err: { error?: FeedActivation }) => err.error?.response.result.error,
  );
}
