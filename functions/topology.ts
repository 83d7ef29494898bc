// The topics and databases of the pump maintenance system, in one place. Each service owns its database and
// publishes its events on its own topic; partition counts bound how many entities proceed in parallel.
import type { TopicSpec } from "../lib/kafka/client.ts";

export const SERVICES = ["assets", "monitoring", "workorders", "parts", "crews"] as const;
export type Service = (typeof SERVICES)[number];

const PARTITIONS = 4;

export const TOPICS: TopicSpec[] = [
  { topic: "pump.assets", partitions: PARTITIONS },
  { topic: "pump.metrics", partitions: PARTITIONS },
  ...SERVICES.map((service) => ({ topic: `${service}.events`, partitions: PARTITIONS })),
  { topic: "saga.retry", partitions: PARTITIONS },
  { topic: "saga.deadletter", partitions: 1 },
];

/** One Cloudant database per service: nobody reads another service's database. */
export const DATABASES: string[] = SERVICES.map((service) => `saga-${service}`);
