// The topics and databases of the pump maintenance system. Each service owns its database and publishes its
// events on its own topic, keyed by the entity they are about; partition counts bound how many entities proceed
// side by side.
import type { TopicPlan } from "../lib/provision.ts";
import type { SweptStep } from "../lib/step/sweeper.ts";
import type { EventType } from "./events.ts";

export const SERVICES = ["assets", "monitoring", "workorders", "parts", "crews"] as const;
export type Service = (typeof SERVICES)[number];

const PARTITIONS = 4;

export const TOPIC = {
  assets: "pump.assets",
  metrics: "pump.metrics",
  monitoring: "monitoring.events",
  workorders: "workorders.events",
  commands: "workorders.commands",
  parts: "parts.events",
  deliveries: "parts.deliveries",
  crews: "crews.events",
  deadLetter: "saga.deadletter",
} as const;

/** Where each event type is published. */
export const ROUTES: Record<EventType, string> = {
  "pump.registered": TOPIC.assets,
  "pump.metric.reported": TOPIC.metrics,
  "maintenance.requested": TOPIC.monitoring,
  "workorder.opened": TOPIC.workorders,
  "workorder.scheduled": TOPIC.workorders,
  "workorder.cancelled": TOPIC.workorders,
  "workorder.deadline.passed": TOPIC.commands,
  "workorder.cancel.requested": TOPIC.commands,
  "part.reserved": TOPIC.parts,
  "part.unavailable": TOPIC.parts,
  "part.released": TOPIC.parts,
  "parts.restocked": TOPIC.deliveries,
  "crew.assigned": TOPIC.crews,
  "crew.unavailable": TOPIC.crews,
  "crew.released": TOPIC.crews,
};

/** Each step's retry topic: the step's own trigger consumes it again. */
export const retryTopicOf = (step: string) => `${step}.retry`;

/** One Cloudant database per service: nobody reads another service's database. */
export const DATABASE: Record<Service, string> = {
  assets: "saga-assets",
  monitoring: "saga-monitoring",
  workorders: "saga-workorders",
  parts: "saga-parts",
  crews: "saga-crews",
};

export const DATABASES: string[] = Object.values(DATABASE);

/** The steps (actions bound to Kafka feeds) and the topics each consumes, for triggers, retry topics and tests. */
export const STEPS = {
  "assets.registry": { service: "assets", consumes: [TOPIC.assets, TOPIC.metrics] },
  "monitoring.detect": { service: "monitoring", consumes: [TOPIC.assets, TOPIC.metrics] },
  "workorders.saga": { service: "workorders", consumes: [TOPIC.monitoring, TOPIC.parts, TOPIC.crews, TOPIC.commands] },
  "parts.stock": { service: "parts", consumes: [TOPIC.workorders, TOPIC.deliveries] },
  "crews.roster": { service: "crews", consumes: [TOPIC.parts, TOPIC.workorders] },
} as const satisfies Record<string, { service: Service; consumes: string[] }>;

const DAY_MS = 86_400_000;
/** Events and retries are kept a week: far longer than the coverage audit needs to read a lost batch back. */
const RETENTION_MS = 7 * DAY_MS;
/** Dead letters wait for a person: kept 30 days (IBM Event Streams' longest on its Standard plan). */
const DEAD_LETTER_RETENTION_MS = 30 * DAY_MS;

export const TOPICS: TopicPlan[] = [
  ...Object.values(TOPIC)
    .filter((topic) => topic !== TOPIC.deadLetter)
    .map((topic) => ({ topic, partitions: PARTITIONS, retentionMs: RETENTION_MS })),
  ...Object.keys(STEPS).map((step) => ({
    topic: retryTopicOf(step),
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  })),
  { topic: TOPIC.deadLetter, partitions: 1, retentionMs: DEAD_LETTER_RETENTION_MS },
];

/** The Kafka-feed trigger of a topic in serverless.yml: saga-<topic with dashes>. Its consumer group is /ns/<trigger>. */
export const triggerOf = (topic: string) => `saga-${topic.replaceAll(".", "-")}`;

/** The trigger of a step's retry topic in serverless.yml: saga-retry-<step with dashes>. */
export const retryTriggerOf = (step: string) => `saga-retry-${step.replaceAll(".", "-")}`;

/** Every step with the topics and triggers that feed it: what the relay's coverage audit checks. */
export const SWEPT_STEPS: SweptStep[] = Object.entries(STEPS).map(([name, step]) => ({
  name,
  database: DATABASE[step.service],
  retryTopic: retryTopicOf(name),
  deadLetterTopic: TOPIC.deadLetter,
  sources: [
    ...step.consumes.map((topic) => ({ topic, trigger: triggerOf(topic) })),
    { topic: retryTopicOf(name), trigger: retryTriggerOf(name) },
  ],
}));
