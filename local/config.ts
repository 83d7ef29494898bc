// Settings of the local OpenWhisk. Every number can come from the options of startLocalOpenWhisk or from the
// environment (LOCAL_OW_*), so tests and benchmarks can raise or lower its limits. The feeds' settings are the
// feeds' own (local/feeds/feed-settings.ts).
import { envNumber } from "../lib/config/settings.ts";

export interface LocalLimits {
  /** Action invocations per namespace and minute (standalone: 60). */
  invokesPerMinute: number;
  /** Trigger fires per namespace and minute (standalone: 60). */
  firesPerMinute: number;
  /** Activations in flight per namespace (standalone: 30). */
  concurrent: number;
  /** Request body of an invoke or fire, and the result of an action, in bytes (1 MB). */
  payloadBytes: number;
  resultBytes: number;
  /** Longest a blocking invoke waits before answering 202 (60 s). */
  maxBlockingWaitMs: number;
  /** Components of a sequence or a composition (50). */
  sequenceMaxLength: number;
}

export interface LocalOptions {
  port: number;
  /** uuid:key of the guest namespace; a random one when unset. */
  auth?: string;
  namespace: string;
  limits: LocalLimits;
  /** Containers kept at most (all actions together) and how long an idle one is kept. */
  maxContainers: number;
  idleContainerMs: number;
  /** Writes the .wskprops-style file here when set. */
  wskpropsPath?: string;
  /** Serves HTTPS with this certificate (a real deployment's API host is HTTPS); plain HTTP without it. */
  tls?: LocalTls;
  log: (line: string) => void;
}

export interface LocalTls {
  /** The certificate and its key, PKCS12, and the keystore's password. */
  pfx: Buffer;
  passphrase: string;
  /** The certificate alone, PEM: what clients, the built-in feeds among them, are given to trust. */
  certificate: string;
}

export type LocalOptionsInput = Partial<Omit<LocalOptions, "limits">> & {
  limits?: Partial<LocalLimits>;
};

export function resolveOptions(input: LocalOptionsInput = {}): LocalOptions {
  const limits: LocalLimits = {
    invokesPerMinute: envNumber("LOCAL_OW_INVOKES_PER_MINUTE", 60),
    firesPerMinute: envNumber("LOCAL_OW_FIRES_PER_MINUTE", 60),
    concurrent: envNumber("LOCAL_OW_CONCURRENT", 30),
    payloadBytes: envNumber("LOCAL_OW_PAYLOAD_BYTES", 1_048_576),
    resultBytes: envNumber("LOCAL_OW_RESULT_BYTES", 1_048_576),
    maxBlockingWaitMs: envNumber("LOCAL_OW_MAX_BLOCKING_WAIT_MS", 60_000),
    sequenceMaxLength: 50,
    ...input.limits,
  };
  return {
    port: input.port ?? envNumber("LOCAL_OW_PORT", 3233),
    auth: input.auth ?? (process.env.LOCAL_OW_AUTH || undefined),
    namespace: input.namespace ?? "guest",
    limits,
    maxContainers: input.maxContainers ?? envNumber("LOCAL_OW_MAX_CONTAINERS", 16),
    idleContainerMs: input.idleContainerMs ?? envNumber("LOCAL_OW_IDLE_CONTAINER_MS", 600_000),
    wskpropsPath: input.wskpropsPath,
    ...(input.tls ? { tls: input.tls } : {}),
    log: input.log ?? (() => {}),
  };
}
