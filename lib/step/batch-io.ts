// What a batch runner is given to reach the world: the store, the producer, the clock and the deadline.
import type { Producer } from "kafkajs";
import type { Cloudant } from "../store/client.ts";

/** Points where a test stops the batch as if the container died there: a hook that throws ends the activation. */
export interface CrashPoints {
  afterLanding?: () => void | Promise<void>;
  beforeWrite?: () => void | Promise<void>;
  afterWrite?: () => void | Promise<void>;
  afterPublish?: () => void | Promise<void>;
}

export interface BatchIO {
  cloudant: Cloudant;
  producer: () => Promise<Producer>;
  now: () => number;
  /** Epoch ms: the activation's deadline (__OW_DEADLINE). */
  deadline: number;
  sleep?: (ms: number) => Promise<void>;
  crash?: CrashPoints;
  /** Non-secret parameters bound to the action (policies such as a deadline length), handed to handlers. */
  config?: Readonly<Record<string, unknown>>;
  /** Where the one summary line per activation goes (the activation's log); default console.log. */
  log?: (line: string) => void;
}
