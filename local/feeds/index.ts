// The built-in feeds of the local OpenWhisk, exposed as actions of the whisk.system namespace:
// /whisk.system/messaging/{kafkaFeed,messageHubFeed} (Kafka) and /whisk.system/alarms/{alarm,interval,once}.
// They stand for upstream's feed packages, so they live with the emulator; they see it only through the provider
// host (../server.ts, and the context type of its built-in actions), and of lib/ use the Kafka feed's contract, Kafka,
// trigger fires over the REST API, settings and errors.
import type { BuiltinProvider } from "../server.ts";
import { AlarmProvider } from "./alarms.ts";
import type { FeedSettings } from "./feed-settings.ts";
import { KafkaFeedProvider } from "./kafka-feed.ts";

export { AlarmProvider, type FeedSettings, KafkaFeedProvider };

export function defaultProviders(settings: Partial<FeedSettings> = {}): BuiltinProvider[] {
  return [new KafkaFeedProvider(settings), new AlarmProvider(settings)];
}
