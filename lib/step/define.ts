// defineEntityStep and defineKeyedStep: turn a step description into an OpenWhisk action `main(params)` that takes
// what the Kafka feed fires (or one event passed directly, for `wsk action invoke`) and answers with the outcome of
// every message. Nothing escapes as an unstructured crash.
import { ConfigError } from "../config/settings.ts";
import type { DecodedRecord } from "../feed/decode.ts";
import { decodeFeedParams } from "../feed/decode.ts";
import { deadlineFromEnv } from "../idempotency/decide.ts";
import type { BatchIO } from "./batch-io.ts";
import { clientsFor } from "./clients.ts";
import { clearInbox, landBatch } from "./inbox.ts";
import { DEFAULT_ACTIVATION_MS, STEP_PARAMETER_KEYS } from "./parameters.ts";
import type { BatchReport } from "./report.ts";
import { runEntityBatch } from "./run-entity-batch.ts";
import { runKeyedBatch } from "./run-keyed-batch.ts";
import { runStreamBatch } from "./run-stream-batch.ts";
import {
  DEFAULT_LIMITS,
  type EntityStepSpec,
  type KeyedStepSpec,
  type StepLimits,
  type StreamStepSpec,
} from "./spec.ts";

export type ActionParams = Record<string, unknown>;

/** An activation's answer: the batch report, or an `error` that OpenWhisk records as an application error. */
export type StepAnswer =
  | BatchReport
  | { error: { step: string; message: string; report?: BatchReport; unprocessed?: unknown } };

export interface StepAction {
  name: string;
  /** The OpenWhisk action. */
  main: (params: ActionParams) => Promise<StepAnswer>;
  /** One activation with explicit I/O: tests, benchmarks, crash simulation. */
  run: (params: ActionParams, io: BatchIO) => Promise<StepAnswer>;
}

interface CommonSpec {
  name: string;
  handles: readonly string[];
  database: string;
  topics: { retry: string; deadLetter: string };
  limits?: Partial<StepLimits>;
}

/** Mistakes in a step's description fail when the module loads, not at the first event. */
function checkSpec(spec: CommonSpec): void {
  const problems = [
    !/^[a-z0-9][a-z0-9.-]*$/.test(spec.name) && "the name must be lowercase letters, digits, dots and dashes",
    spec.handles.length === 0 && "it handles no event type",
    !spec.database && "it names no database",
    (!spec.topics.retry || !spec.topics.deadLetter) && "it needs a retry topic and a dead-letter topic",
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`step ${spec.name || "(unnamed)"}: ${problems.join("; ")}`);
}

/**
 * Fault injection for resilience tests of a deployed system: with `chaos_exit_after_write` bound to a probability,
 * the container exits right after a write, before publishing, as a killed activation would. The relay must then
 * publish what the outbox holds and re-send what the landed batch holds. Never bound in production.
 */
function chaosCrashPoints(config: Record<string, unknown>): BatchIO["crash"] {
  const probability = Number(config.chaos_exit_after_write ?? 0);
  if (!(probability > 0)) return undefined;
  return {
    afterWrite: () => {
      if (Math.random() < probability) process.exit(137);
    },
  };
}

/** The bound parameters a handler may see: neither secrets nor the feed's messages. */
function configOf(params: ActionParams): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).filter(
      ([key]) => !STEP_PARAMETER_KEYS.has(key) && key !== "messages" && !key.startsWith("__ow_"),
    ),
  );
}

function answer(step: string, report: BatchReport): StepAnswer {
  if (report.counts.unsent === 0) return report;
  const message = `${report.counts.unsent} message(s) could be sent neither to the retry nor to the dead-letter topic; this result lists them`;
  return { error: { step, message, report } };
}

function stepAction(
  spec: CommonSpec,
  runBatch: (records: DecodedRecord[], io: BatchIO) => Promise<BatchReport>,
): StepAction {
  checkSpec(spec);
  const limits = { ...DEFAULT_LIMITS, ...spec.limits };
  const run = async (params: ActionParams, io: BatchIO): Promise<StepAnswer> => {
    const decoded = decodeFeedParams(params, { ignoreKeys: STEP_PARAMETER_KEYS, maxValueBytes: limits.maxValueBytes });
    // Malformed parameters as a whole: keep them in the result, the only place a person can find them again.
    if (!decoded.ok) return { error: { step: spec.name, message: decoded.message, unprocessed: params.messages } };
    // Land the batch first: if this activation is killed, the relay finds it and sends it to the retry topic.
    const inbox = await landBatch(
      io.cloudant,
      spec.database,
      { name: spec.name, retryTopic: spec.topics.retry },
      decoded.records,
      io.deadline,
    ).catch(() => undefined); // the store is down: the batch's own store calls will retry or send to the retry topic
    const report = await runBatch(decoded.records, io);
    await clearInbox(io.cloudant, spec.database, inbox).catch(() => undefined);
    (io.log ?? console.log)(
      `${spec.name}: ${JSON.stringify(report.counts)} published=${report.published} pending=${report.outboxPending}`,
    );
    return answer(spec.name, report);
  };
  const main = async (params: ActionParams): Promise<StepAnswer> => {
    try {
      const clients = clientsFor(params, spec.name);
      const now = Date.now;
      const deadline = deadlineFromEnv(process.env, now, DEFAULT_ACTIVATION_MS);
      const config = configOf(params);
      const crash = chaosCrashPoints(config);
      return await run(params, {
        cloudant: clients.cloudant,
        producer: clients.producer,
        now,
        deadline,
        config,
        crash,
      });
    } catch (err) {
      const message =
        err instanceof ConfigError ? `configuration: ${err.message}` : err instanceof Error ? err.message : String(err);
      // The feed never delivers these again: keep them in the activation's result, where a person can replay them.
      return {
        error: { step: spec.name, message, unprocessed: params.messages ?? "(a single event, see the invocation)" },
      };
    }
  };
  return { name: spec.name, main, run };
}

/** A step that changes one entity of its service per event (state, applied keys and outbox in one document). */
export function defineEntityStep<S>(spec: EntityStepSpec<S>): StepAction {
  return stepAction(spec, (records, io) => runEntityBatch(spec, records, io));
}

/** A step with no entity of its own: each event is claimed with an idempotency record before the handler runs. */
export function defineKeyedStep<R>(spec: KeyedStepSpec<R>): StepAction {
  return stepAction(spec, (records, io) => runKeyedBatch(spec, records, io));
}

/** An event-sourced step: its streams' commits are the source of truth; state is rebuilt by replaying them. */
export function defineStreamStep<S>(spec: StreamStepSpec<S>): StepAction {
  return stepAction(spec, (records, io) => runStreamBatch(spec, records, io));
}
