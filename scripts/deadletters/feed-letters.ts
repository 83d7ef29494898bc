// The lossless feed's dead letters (triggers/lossless): a batch whose actions kept failing, with the activations
// and errors of its last attempt. A replay fires the letter's trigger with the same batch and follows the
// activations to their end, as the feed does, so the person replaying sees at once whether the actions took it.
import type { Kafka } from "kafkajs";
import type { DeadBatch } from "../../triggers/lossless/deliver.ts";
import { fire, follow } from "../../triggers/lossless/platform.ts";
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

/** Fires the letter's trigger with its batch and follows the rules' activations until they end or `followMs` passes. */
export async function replayFeedLetter(
  platform: { apiHost: string; authKey: string },
  stored: StoredFeedLetter,
  options: { by: string; followMs: number; now: () => number },
): Promise<FeedReplay> {
  const { trigger, messages, omitted } = stored.letter;
  const target = { ...platform, trigger };
  const base = { at: new Date(options.now()).toISOString(), by: options.by, trigger };
  if (omitted && omitted.length > 0) {
    const where = `${stored.letter.topic}:${stored.letter.partition}`;
    const detail = `the record at offset ${omitted.join(", ")} was too large for a letter; it is still on ${where}`;
    return { ...base, outcome: "not fired", detail };
  }
  const fired = await fire(target, { messages });
  if (fired.kind !== "fired") {
    const detail = fired.kind === "gone" ? "the trigger is gone (404)" : fired.reason;
    return { ...base, outcome: "not fired", detail };
  }
  const settlement = await follow(target, fired.activationId, options.now() + options.followMs);
  if (settlement.kind === "succeeded") return { ...base, outcome: "succeeded", activationId: fired.activationId };
  const detail = settlement.failures
    .map((failure) => `${failure.action}${failure.activationId ? ` (${failure.activationId})` : ""}: ${failure.error}`)
    .join("; ");
  return { ...base, outcome: "failed", activationId: fired.activationId, detail };
}
