// The lossless feed's dead letters (triggers/lossless): a batch whose actions kept failing, with the activations
// and errors of its last attempt. A replay fires the letter's trigger with the same batch and follows the
// activations to their end, as the feed does, so the person replaying sees at once whether the actions took it.
import type { Kafka } from "kafkajs";
import type { ApiHost } from "../../lib/openwhisk/fire.ts";
import type { DeadBatch } from "../../triggers/lossless/deliver.ts";
import { fire, follow } from "../../triggers/lossless/openwhisk-calls.ts";
import { readKept } from "./letters.ts";

export interface StoredFeedLetter {
  id: string;
  topic: string;
  partition: number;
  offset: number;
  letter: DeadBatch;
}

/** A feed letter as the provider writes it, or undefined for anything else. */
export function parseFeedLetter(text: string | undefined): DeadBatch | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<DeadBatch> | null;
    const whole =
      typeof value?.trigger === "string" &&
      typeof value.topic === "string" &&
      Number.isInteger(value.partition) &&
      Number.isInteger(value.fromOffset) &&
      Number.isInteger(value.toOffset) &&
      Array.isArray(value.failures) &&
      Array.isArray(value.messages) &&
      typeof value.failedAt === "string";
    return whole ? (value as DeadBatch) : undefined;
  } catch {
    return undefined;
  }
}

export const readFeedLetters = (kafka: Kafka, topic: string): Promise<StoredFeedLetter[]> =>
  readKept(kafka, topic, parseFeedLetter);

export interface FeedReplay {
  at: string;
  by: string;
  trigger: string;
  outcome: "succeeded" | "failed" | "not fired";
  /** The trigger's activation, when the fire was accepted. */
  activationId?: string;
  /** Why it failed, or why it was not fired. */
  detail?: string;
}

/**
 * Fires the letter's trigger with its batch and follows the rules' activations until they end or `followMs` passes.
 * A record too large for a letter is left out (the provider wrote it to the dead-letter topic on its own, as it was).
 */
export async function replayFeedLetter(
  platform: { api: ApiHost; authKey: string },
  stored: StoredFeedLetter,
  options: { by: string; followMs: number; now: () => number },
): Promise<FeedReplay> {
  const { trigger, omitted = [] } = stored.letter;
  const target = { ...platform, trigger };
  const base = { at: new Date(options.now()).toISOString(), by: options.by, trigger };
  const leftOut =
    omitted.length > 0
      ? `; left out, too large for a letter: offset ${omitted.join(", ")} (each on the dead-letter topic on its own)`
      : "";
  const messages = stored.letter.messages.filter((message) => !omitted.includes(message.offset));
  if (messages.length === 0) return { ...base, outcome: "not fired", detail: `nothing to fire${leftOut}` };
  const fired = await fire(target, { messages });
  if (fired.kind !== "fired") {
    const detail = fired.kind === "gone" ? "the trigger is gone (404)" : fired.reason;
    return { ...base, outcome: "not fired", detail: `${detail}${leftOut}` };
  }
  const settlement = await follow(target, fired.activationId, options.now() + options.followMs);
  if (settlement.kind === "succeeded")
    return {
      ...base,
      outcome: "succeeded",
      activationId: fired.activationId,
      ...(leftOut ? { detail: leftOut.slice(2) } : {}),
    };
  const detail =
    settlement.kind === "held"
      ? `nothing ran that could tell: ${settlement.reason}`
      : settlement.failures
          .map(
            (failure) =>
              `${failure.action}${failure.activationId ? ` (${failure.activationId})` : ""}: ${failure.error}`,
          )
          .join("; ");
  return { ...base, outcome: "failed", activationId: fired.activationId, detail: `${detail}${leftOut}` };
}
