// defineEntityStep, defineStreamStep and defineKeyedStep: turn a step description into an OpenWhisk action
// `main(params)` that takes what the Kafka feed fires (or one event passed directly, for `wsk action invoke`) and
// answers with the outcome of every message. Nothing escapes as an unstructured crash.

import { STEP_KIT_PARAMETERS } from "../config/parameters.ts";
import { ConfigError } from "../config/settings.ts";
import { SagaError } from "../errors.ts";
import type { Schemas } from "../events/catalog.ts";
import type { DecodedRecord } from "../feed/decode.ts";
import { decodeFeedParams } from "../feed/decode.ts";
import { deadlineFromEnv } from "../idempotency/decide.ts";
import { isRecord } from "../narrow.ts";
import type { BatchIO } from "./io.ts";
import { clientsFor } from "./io.ts";
import { runKeyedBatch } from "./keyed.ts";
import { runLanded } from "./landing.ts";
import { answerFor, type BatchReport, malformedAnswer, type StepAnswer, sagasOf } from "./outcomes.ts";
import { runEntityBatch, runStreamBatch } from "./rounds.ts";
import {
  type BatchStep,
  DEFAULT_ACTIVATION_MS,
  DEFAULT_LIMITS,
  type EntityStepSpec,
  type KeyedStepSpec,
  LOSSLESS_FEED,
  STEP_PARAMETER_KEYS,
  type StreamStepSpec,
  untyped,
} from "./spec.ts";

export type ActionParams = Record<string, unknown>;
export type { StepAnswer };

export interface StepAction {
  name: string;
  /** The OpenWhisk action. */
  main: (params: ActionParams) => Promise<StepAnswer>;
  /** One activation with explicit I/O: tests, benchmarks, crash simulation. */
  run: (params: ActionParams, io: BatchIO) => Promise<StepAnswer>;
}

/** A step described wrongly: thrown when its module loads. */
export class StepSpecError extends SagaError {
  override name = "StepSpecError";
}

/** Mistakes in a step's description fail when the module loads, not at the first event. */
function checkSpec(spec: BatchStep): void {
  const problems = [
    !/^[a-z0-9][a-z0-9.-]*$/.test(spec.name) && "the name must be lowercase letters, digits, dots and dashes",
    spec.handles.length === 0 && "it handles no event type",
    !spec.database && "it names no database",
    (!spec.topics.retry || !spec.topics.deadLetter) && "it needs a retry topic and a dead-letter topic",
  ].filter(Boolean);
  if (problems.length > 0) throw new StepSpecError(`step ${spec.name || "(unnamed)"}: ${problems.join("; ")}`);
}

/**
 * Fault injection for resilience tests of a deployed system: with `chaos_exit_after_write` bound to a probability,
 * the container exits right after a write, before publishing, as a killed activation would. The relay must then
 * publish what the outbox holds and re-send what the landed batch holds. Only first deliveries are killed: a batch
 * from the step's retry topic (the relay's re-sends among them) always gets through, so a run converges instead of
 * killing the same records again. Never bound in production.
 */
function chaosCrashPoints(params: ActionParams, retryTopic: string): BatchIO["crash"] {
  const probability = Number(params[STEP_KIT_PARAMETERS.chaosExitAfterWrite] ?? 0);
  if (!(probability > 0)) return undefined;
  const messages = Array.isArray(params.messages) ? params.messages : [];
  if (messages.some((message) => isRecord(message) && message.topic === retryTopic)) return undefined;
  return {
    afterWrite: () => {
      if (Math.random() < probability) process.exit(137);
    },
  };
}

/** The bound parameters a handler may see: not the kit's settings (secrets among them), nor the feed's messages. */
function configOf(params: ActionParams): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).filter(
      ([key]) => !STEP_PARAMETER_KEYS.has(key) && key !== "messages" && !key.startsWith("__ow_"),
    ),
  );
}

function stepAction(
  spec: BatchStep,
  runBatch: (records: DecodedRecord[], io: BatchIO) => Promise<BatchReport>,
): StepAction {
  checkSpec(spec);
  const limits = { ...DEFAULT_LIMITS, ...spec.limits };
  const run = async (params: ActionParams, io: BatchIO): Promise<StepAnswer> => {
    const log = io.log ?? console.log;
    const started = io.now();
    const decoded = decodeFeedParams(params, { ignoreKeys: STEP_PARAMETER_KEYS, maxValueBytes: limits.maxValueBytes });
    // Malformed parameters as a whole: keep them in the result, the only place a person can find them again.
    if (!decoded.ok) return malformedAnswer(spec.name, decoded.message, params.messages, log);
    const lossless = params[STEP_KIT_PARAMETERS.feed] === LOSSLESS_FEED;
    const { report, landed } = await runLanded(spec, decoded.records, io, lossless, runBatch);
    log(
      JSON.stringify({
        step: spec.name,
        activation: process.env.__OW_ACTIVATION_ID,
        counts: report.counts,
        ...sagasOf(report.messages),
        published: report.published,
        outboxPending: report.outboxPending,
        landed,
        ...(lossless ? { feed: LOSSLESS_FEED } : {}),
        ...(report.parkedIn ? { parked: report.parkedIn.length } : {}),
        ...(report.landingKept ? { landingKept: true } : {}),
        durationMs: io.now() - started,
      }),
    );
    return answerFor(report, log);
  };
  const main = async (params: ActionParams): Promise<StepAnswer> => {
    try {
      const clients = clientsFor(params);
      const now = Date.now;
      const deadline = deadlineFromEnv(process.env, now, DEFAULT_ACTIVATION_MS);
      const config = configOf(params);
      const crash = chaosCrashPoints(params, spec.topics.retry);
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
      const unprocessed = params.messages ?? "(a single event, see the invocation)";
      return malformedAnswer(spec.name, message, unprocessed, console.log);
    }
  };
  return { name: spec.name, main, run };
}

/** A step that changes one entity of its service per event (state, applied keys and outbox in one document). */
export function defineEntityStep<S, C extends Schemas, T extends keyof C & string>(
  typed: EntityStepSpec<S, C, T>,
): StepAction {
  const spec = untyped(typed);
  return stepAction(spec, (records, io) => runEntityBatch(spec, records, io));
}

/** A step with no entity of its own: each event is claimed with an idempotency record before the handler runs. */
export function defineKeyedStep<R, C extends Schemas, T extends keyof C & string>(
  typed: KeyedStepSpec<R, C, T>,
): StepAction {
  const spec = untyped(typed);
  return stepAction(spec, (records, io) => runKeyedBatch(spec, records, io));
}

/** An event-sourced step: its streams' commits are the source of truth; state is rebuilt by replaying them. */
export function defineStreamStep<S, C extends Schemas, T extends keyof C & string>(
  typed: StreamStepSpec<S, C, T>,
): StepAction {
  const spec = untyped(typed);
  return stepAction(spec, (records, io) => runStreamBatch(spec, records, io));
}
