// A record a step sends to Kafka: an outbox event, a dead letter or a retry.
export interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: string;
}
