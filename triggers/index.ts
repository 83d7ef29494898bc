// The built-in feeds of the local OpenWhisk, exposed as actions of the whisk.system namespace:
// /whisk.system/messaging/{kafkaFeed,messageHubFeed} (Kafka) and /whisk.system/alarms/{alarm,interval,once}.
import type { BuiltinProvider } from "../local/server.ts";
import { AlarmProvider } from "./alarms.ts";
import { KafkaFeedProvider } from "./kafka-feed.ts";
import type { FeedSettings } from "./settings.ts";

export { AlarmProvider, type FeedSettings, KafkaFeedProvider };

export function defaultProviders(settings: Partial<FeedSettings> = {}): BuiltinProvider[] {
  return [new KafkaFeedProvider(settings), new AlarmProvider(settings)];
}
