// How a step is described: what it consumes, which entity each event is about, the pure decision, and where its
// emitted events, retries and dead letters go.
import type { CloudEvent } from "../events/envelope.ts";
import { DEFAULT_RETENTION_MS } from "../idempotency/decide.ts";

/** What the step needs of an event catalog (lib/events/catalog.ts): checking on consume, building on emit. */
export interface StepCatalog {
  parse(
    value: unknown,
  ):
    | { ok: true; event: CloudEvent<string, unknown> }
    | { ok: false; reason: "schema" | "unknown-type" | "envelope"; message: string };
  build(
    type: string,
    fields: {
      id: string;
      source: string;
      subject: string;
      data: unknown;
      time: string;
      sagaid?: string;
      causationid?: string;
    },
  ): CloudEvent<string, unknown>;
}

/** An event the handler wants emitted; the kit gives it its id, source, time and correlation. */
export interface Emit {
  type: string;
  data: unknown;
  /** The entity the event is about (its Kafka key). Defaults to the entity the step just changed. */
  subject?: string;
  /** Starts a new saga; by default the emitted event continues the input event's saga. */
  sagaid?: string;
}

export interface HandlerContext {
  /** Epoch ms from the step's clock. */
  now: number;
  step: string;
  entityId: string;
  /** Non-secret parameters bound to the action at deploy time. */
  config: Readonly<Record<string, unknown>>;
  /** How long, and how many, applied keys the entity remembers: what a handler remembers should not outlive it. */
  retention: Retention;
}

export interface Decision<S> {
  state: S;
  emit?: Emit[];
}

export interface StepLimits {
  /** Calls of a throwing handler before its event is dead-lettered. */
  handlerAttempts: number;
  /** Deliveries through the retry topic before a message is dead-lettered. */
  retryAttempts: number;
  /** Rounds of re-reading and re-applying after 409 conflicts within one activation. */
  conflictRounds: number;
  /** A record value larger than this (serialized bytes) is dead-lettered unread. */
  maxValueBytes: number;
  /** Time kept at the end of the activation for sending retries and answering. */
  deadlineReserveMs: number;
}

export interface Retention {
  /** How long an applied event's key is remembered, so a duplicate within it has no effect. */
  windowMs: number;
  /** At most this many keys per entity, newest kept, so a busy entity's document stays small. */
  maxKeysPerEntity: number;
}

export interface EntityStepSpec<S> {
  /** Unique step name, e.g. "parts.reserve"; part of emitted event ids. */
  name: string;
  /** CloudEvents `source` of emitted events; default `/steps/<name>`. */
  source?: string;
  catalog: StepCatalog;
  /** Event types this step applies. Other known types on its topics are acknowledged as ignored. */
  handles: readonly string[];
  /** The service's own database. */
  database: string;
  /** The entity an event changes; default: the event's subject. */
  entityOf?: (event: CloudEvent<string, unknown>) => string;
  /** The pure decision: no I/O. Throwing means the event cannot be applied. */
  handle: (event: CloudEvent<string, unknown>, state: S | undefined, context: HandlerContext) => Decision<S>;
  /** Topic of each emitted event type. */
  routes: Readonly<Record<string, string>>;
  topics: { retry: string; deadLetter: string };
  retention?: Partial<Retention>;
  limits?: Partial<StepLimits>;
}

export const DEFAULT_RETENTION: Retention = { windowMs: DEFAULT_RETENTION_MS, maxKeysPerEntity: 1000 };

export const DEFAULT_LIMITS: StepLimits = {
  handlerAttempts: 3,
  retryAttempts: 5,
  conflictRounds: 8,
  maxValueBytes: 512 * 1024,
  deadlineReserveMs: 5_000,
};

/** The result a keyed step's handler returns: stored with the idempotency record and replayed to duplicates. */
export interface KeyedDecision<R> {
  result: R;
  emit?: Emit[];
}

/**
 * A step with no entity of its own (it calls something outside, or only translates events). Each event is claimed
 * with an idempotency record before the handler runs; the handler may be asynchronous and reach other systems.
 */
export interface KeyedStepSpec<R> {
  name: string;
  source?: string;
  catalog: StepCatalog;
  handles: readonly string[];
  database: string;
  handle: (
    event: CloudEvent<string, unknown>,
    context: { now: number; step: string; config: Readonly<Record<string, unknown>> },
  ) => Promise<KeyedDecision<R>> | KeyedDecision<R>;
  routes: Readonly<Record<string, string>>;
  topics: { retry: string; deadLetter: string };
  /** How long a completed record answers duplicates (default 7 days). */
  retentionMs?: number;
  limits?: Partial<StepLimits>;
}

/**
 * An event-sourced step: the entity (a stream) is the list of what happened to it, stored as commits; its state is
 * rebuilt by replaying them. Each activation appends at most one commit per stream, at the next sequence number,
 * so two activations appending to one stream conflict (409) and the loser replays and decides again.
 */
export interface StreamStepSpec<S> {
  name: string;
  source?: string;
  catalog: StepCatalog;
  handles: readonly string[];
  database: string;
  /** The stream (aggregate) an event belongs to. */
  streamOf: (event: CloudEvent<string, unknown>) => string;
  /** Applies one stored event (received or emitted) to the state. Pure. */
  evolve: (state: S | undefined, event: CloudEvent<string, unknown>) => S;
  /** Fields of the state after a commit, stored on the commit for queries (for example a deadline). */
  project?: (state: S) => Record<string, unknown>;
  /** The events to emit for an input, given the state before it. Pure; throwing dead-letters the input. */
  decide: (input: CloudEvent<string, unknown>, state: S | undefined, context: HandlerContext) => Emit[];
  routes: Readonly<Record<string, string>>;
  topics: { retry: string; deadLetter: string };
  limits?: Partial<StepLimits>;
}
