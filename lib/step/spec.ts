// How a step is described: what it consumes, which entity each event is about, the pure decision, and where its
// emitted events, retries and dead letters go.
import { KIT_SETTING_NAMES } from "../config/parameters.ts";
import type { EventOf, Schemas } from "../events/catalog.ts";
import type { CloudEvent } from "../events/envelope.ts";
import { DEFAULT_RETENTION_MS } from "../idempotency/decide.ts";
import type * as z from "../zod.ts";

/** Any event the catalog `C` allows a handler to emit, its data checked against the type's schema when compiled. */
export type EmitOf<C extends Schemas> = { [K in keyof C & string]: Emit<K, z.input<C[K]>> }[keyof C & string];

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
      activationid?: string;
    },
  ): CloudEvent<string, unknown>;
}

/** What a step needs of its catalog, with the schemas that type its handlers (`defineEventCatalog` makes one). */
export type CatalogOf<C extends Schemas> = StepCatalog & { readonly schemas: C };

/** An event the handler wants emitted; the kit gives it its id, source, time and correlation. */
export interface Emit<T extends string = string, D = unknown> {
  type: T;
  data: D;
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

export interface Decision<S, E extends Emit = Emit> {
  state: S;
  emit?: E[];
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

/**
 * A step is generic over its catalog `C` and the event types `T` it handles: handlers receive typed data and their
 * emits are checked against the schemas. The defaults (any catalog, any type) are what the kit sees inside.
 */
export interface EntityStepSpec<S, C extends Schemas = Schemas, T extends keyof C & string = keyof C & string> {
  /** Unique step name, e.g. "parts.reserve"; part of emitted event ids. */
  name: string;
  /** CloudEvents `source` of emitted events; default `/steps/<name>`. */
  source?: string;
  catalog: CatalogOf<C>;
  /** Event types this step applies. Other known types on its topics are acknowledged as ignored. */
  handles: readonly T[];
  /** The service's own database. */
  database: string;
  /** The entity an event changes; default: the event's subject. */
  entityOf?: (event: EventOf<C, T>) => string;
  /** The pure decision: no I/O. Throwing means the event cannot be applied. */
  handle: (event: EventOf<C, T>, state: S | undefined, context: HandlerContext) => Decision<S, EmitOf<C>>;
  /** Topic of each emitted event type. */
  routes: Readonly<Record<string, string>>;
  topics: { retry: string; deadLetter: string };
  retention?: Partial<Retention>;
  limits?: Partial<StepLimits>;
}

/** What the kit's batch machinery needs of any step: the fields its three kinds of spec share. */
export interface BatchStep {
  name: string;
  catalog: StepCatalog;
  handles: readonly string[];
  database: string;
  topics: { retry: string; deadLetter: string };
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
export interface KeyedDecision<R, E extends Emit = Emit> {
  result: R;
  emit?: E[];
}

/**
 * A step with no entity of its own (it calls something outside, or only translates events). Each event is claimed
 * with an idempotency record before the handler runs; the handler may be asynchronous and reach other systems.
 */
export interface KeyedStepSpec<R, C extends Schemas = Schemas, T extends keyof C & string = keyof C & string> {
  name: string;
  source?: string;
  catalog: CatalogOf<C>;
  handles: readonly T[];
  database: string;
  handle: (
    event: EventOf<C, T>,
    context: { now: number; step: string; config: Readonly<Record<string, unknown>> },
  ) => Promise<KeyedDecision<R, EmitOf<C>>> | KeyedDecision<R, EmitOf<C>>;
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
export interface StreamStepSpec<S, C extends Schemas = Schemas, T extends keyof C & string = keyof C & string> {
  name: string;
  source?: string;
  catalog: CatalogOf<C>;
  handles: readonly T[];
  database: string;
  /** The stream (aggregate) an event belongs to. */
  streamOf: (event: EventOf<C, T>) => string;
  /** Applies one stored event (received or emitted: any of the catalog's) to the state. Pure. */
  evolve: (state: S | undefined, event: EventOf<C>) => S;
  /** Fields of the state after a commit, stored on the commit for queries (for example a deadline). */
  project?: (state: S) => Record<string, unknown>;
  /** The events to emit for an input, given the state before it. Pure; throwing dead-letters the input. */
  decide: (input: EventOf<C, T>, state: S | undefined, context: HandlerContext) => EmitOf<C>[];
  routes: Readonly<Record<string, string>>;
  topics: { retry: string; deadLetter: string };
  limits?: Partial<StepLimits>;
}

// The kit calls a step's functions only with events its catalog parsed and whose type the step handles (see
// classify.ts), so it may see a typed spec as the catalog-agnostic one: the one place that widening is written.
export function untyped<S, C extends Schemas, T extends keyof C & string>(
  spec: EntityStepSpec<S, C, T>,
): EntityStepSpec<S>;
export function untyped<S, C extends Schemas, T extends keyof C & string>(
  spec: StreamStepSpec<S, C, T>,
): StreamStepSpec<S>;
export function untyped<R, C extends Schemas, T extends keyof C & string>(
  spec: KeyedStepSpec<R, C, T>,
): KeyedStepSpec<R>;
export function untyped(spec: unknown): unknown {
  return spec;
}

// Parameters bound to a step action at deploy time: configuration, never part of an event.

export const STEP_PARAMETER_KEYS: ReadonlySet<string> = new Set(KIT_SETTING_NAMES);

/** `kafka_feed` bound to a step when the lossless feed fires it: the feed fires a batch again until it succeeds. */
export const LOSSLESS_FEED = "lossless";

/** Without __OW_DEADLINE (a direct call outside OpenWhisk) an activation gets OpenWhisk's default 60 s. */
export const DEFAULT_ACTIVATION_MS = 60_000;

// What an entity remembers, bounded by time and count: the keys of the events it applied, and whatever a handler
// keeps per work order or per request. Entries are `[id, epoch ms]` pairs kept oldest first, as they are added, so
// pruning drops from the front. A list rather than a map: a state is copied for every event, and copying a list of
// a thousand pairs is cheap where copying an object of a thousand keys costs about a millisecond.

const cutoff = (now: number, retention: Retention) => now - retention.windowMs;

/** How many entries, from the oldest, fall outside the window or the count. */
function toDrop(list: [string, number][], now: number, retention: Retention): number {
  let drop = Math.max(0, list.length - retention.maxKeysPerEntity);
  while (drop < list.length && (list[drop]?.[1] ?? 0) <= cutoff(now, retention)) drop += 1;
  return drop;
}

export type Memory = [string, number][];

export const remembers = (memory: Memory, id: string) => memory.some(([known]) => known === id);

/** The memory with `id` added at `at`, pruned to the retention window and count. */
export function remember(memory: Memory, id: string, at: number, retention: Retention): Memory {
  const next: Memory = [...memory, [id, at]];
  const drop = toDrop(next, at, retention);
  return drop === 0 ? next : next.slice(drop);
}

/** The memory pruned to the window and count. */
export function keepNewest(memory: Memory, now: number, retention: Retention): Memory {
  const drop = toDrop(memory, now, retention);
  return drop === 0 ? memory : memory.slice(drop);
}

/** Applied keys as stored: a Memory, or (documents written before 0.2) a map of digest -> epoch ms. */
export function asMemory(stored: Memory | Record<string, number> | undefined): Memory {
  if (stored === undefined) return [];
  if (Array.isArray(stored)) return stored;
  return Object.entries(stored).sort((a, b) => a[1] - b[1]);
}
