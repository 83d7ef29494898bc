// The topics and databases of the pump maintenance system. Each service owns its database and publishes its
// events on its own topic, keyed by the entity they are about; partition counts bound how many entities proceed
// side by side.
import type { TopicPlan } from "../lib/provisioner.ts";
import type { SweptStep } from "../lib/step/tools.ts";
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
  /** The lossless feed's: batches whose actions kept failing, with the activations and their errors. */
  feedDeadLetter: "saga.feed-deadletter",
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

/** Topics of letters for a person, not events: the steps' and the lossless feed's. */
export const isDeadLetterTopic = (topic: string) => topic === TOPIC.deadLetter || topic === TOPIC.feedDeadLetter;

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

/**
 * The steps (actions bound to Kafka feeds), the module each is built from and the event types each handles: the
 * one declaration of the wiring.
 * The topics a step consumes, its retry topic, its action, triggers and rules all derive from it; serverless.yml
 * is checked against it (scripts/wiring.ts).
 */
export const STEPS = {
  "assets.registry": {
    service: "assets",
    module: "functions/assets/registry-step.ts",
    handles: ["pump.registered", "pump.metric.reported"],
  },
  "monitoring.detect": {
    service: "monitoring",
    module: "functions/monitoring/detect-step.ts",
    handles: ["pump.registered", "pump.metric.reported"],
  },
  "workorders.saga": {
    service: "workorders",
    module: "functions/workorders/saga-step.ts",
    handles: [
      "maintenance.requested",
      "part.reserved",
      "part.unavailable",
      "crew.assigned",
      "crew.unavailable",
      "workorder.deadline.passed",
      "workorder.cancel.requested",
      "part.released",
      "crew.released",
    ],
  },
  "parts.stock": {
    service: "parts",
    module: "functions/parts/stock-step.ts",
    handles: ["workorder.opened", "workorder.cancelled", "workorder.scheduled", "parts.restocked"],
  },
  "crews.roster": {
    service: "crews",
    module: "functions/crews/roster-step.ts",
    handles: ["part.reserved", "workorder.cancelled"],
  },
} as const satisfies Record<string, { service: Service; module: string; handles: readonly EventType[] }>;

export type StepName = keyof typeof STEPS;
/** The event types a step handles. */
export type HandledBy<N extends StepName> = (typeof STEPS)[N]["handles"][number];
export const STEP_NAMES = Object.keys(STEPS) as StepName[];

/** The topics a step consumes: those its handled types are published on, in the order first met. */
export const consumedTopics = (step: StepName): string[] => [
  ...new Set(STEPS[step].handles.map((type: EventType) => ROUTES[type])),
];

/** A step's action in serverless.yml: its name with dashes. */
export const actionOf = (step: StepName) => step.replaceAll(".", "-");

const DAY_MS = 86_400_000;
/** Events and retries are kept a week: far longer than the coverage audit needs to read a lost batch back. */
const RETENTION_MS = 7 * DAY_MS;
/** Dead letters wait for a person: kept 30 days (IBM Event Streams' longest on its Standard plan). */
const DEAD_LETTER_RETENTION_MS = 30 * DAY_MS;

export const TOPICS: TopicPlan[] = [
  ...Object.values(TOPIC)
    .filter((topic) => topic !== TOPIC.deadLetter && topic !== TOPIC.feedDeadLetter)
    .map((topic) => ({ topic, partitions: PARTITIONS, retentionMs: RETENTION_MS })),
  ...STEP_NAMES.map((step) => ({
    topic: retryTopicOf(step),
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  })),
  { topic: TOPIC.deadLetter, partitions: 1, retentionMs: DEAD_LETTER_RETENTION_MS },
  { topic: TOPIC.feedDeadLetter, partitions: 1, retentionMs: DEAD_LETTER_RETENTION_MS },
];

/** The Kafka-feed trigger of a topic in serverless.yml: saga-<topic with dashes>. Its consumer group is /ns/<trigger>. */
export const triggerOf = (topic: string) => `saga-${topic.replaceAll(".", "-")}`;

/** The trigger of a step's retry topic in serverless.yml: saga-retry-<step with dashes>. */
export const retryTriggerOf = (step: string) => `saga-retry-${step.replaceAll(".", "-")}`;

/** The topics that feed a step, each with its trigger: those it consumes, then its retry topic. */
export const stepSources = (step: StepName) => [
  ...consumedTopics(step).map((topic) => ({ topic, trigger: triggerOf(topic) })),
  { topic: retryTopicOf(step), trigger: retryTriggerOf(step) },
];

/** Every step with the topics and triggers that feed it: what the relay's coverage audit checks. */
export const SWEPT_STEPS: SweptStep[] = STEP_NAMES.map((name) => ({
  name,
  database: DATABASE[STEPS[name].service],
  retryTopic: retryTopicOf(name),
  deadLetterTopic: TOPIC.deadLetter,
  sources: stepSources(name),
}));
