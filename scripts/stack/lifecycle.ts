// Brings the local stack up and down: a Kafka broker and a CouchDB-compatible server, or the services named by
// KAFKA_BROKERS / CLOUDANT_URL, which are then used as they are and never started or stopped here.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readBoolean } from "../../lib/config/settings.ts";
import { type KafkaSettings, kafkaSettingsFromEnv } from "../../lib/kafka/config.ts";
import { requireStoreSettings, type StoreSettings, storeSettingsFromEnv } from "../../lib/store/config.ts";
import { couchAdmin, couchLogFile, startCouchServer, storeAnswers } from "./couch.ts";
import {
  EVENT_STREAMS_USER,
  eventStreamsAdminLogFile,
  eventStreamsCertificate,
  eventStreamsSecrets,
  startEventStreamsAdmin,
} from "./event-streams.ts";
import {
  checkJdk,
  ensureKafkaJars,
  kafkaAnswers,
  kafkaLogFile,
  kafkaVersion,
  startKafkaBroker,
} from "./kafka-broker.ts";
import { listenerOf } from "./listeners.ts";
import { stackDir, stateFile } from "./paths.ts";
import { isAlive, isPortFree, StackError, stopGroup } from "./processes.ts";

interface StartedServer {
  pid: number;
  ports: number[];
  logFile: string;
}

/** The local broker as IBM Event Streams: its SASL_SSL listener and its admin API (a process of its own). */
interface EventStreamsState {
  brokers: string[];
  adminUrl: string;
  adminServer: StartedServer;
}

/** What `up` started (only that is stopped by `down`) and where each service answers. */
export interface StackState {
  kafka: { brokers: string[]; external: boolean; server?: StartedServer; eventStreams?: EventStreamsState };
  couch: { url: string; external: boolean; server?: StartedServer };
}

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  kafkaSasl: number;
  kafkaAdmin: number;
  couch: number;
}

export function portsFromEnv(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const port = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65535)
      throw new StackError(`${name}: "${raw}" is not a port number`);
    return value;
  };
  return {
    kafka: port("STACK_KAFKA_PORT", 9092),
    kafkaController: port("STACK_KAFKA_CONTROLLER_PORT", 9093),
    kafkaSasl: port("STACK_KAFKA_SASL_PORT", 9094),
    kafkaAdmin: port("STACK_KAFKA_ADMIN_PORT", 9095),
    couch: port("STACK_COUCH_PORT", 5984),
  };
}

export function readState(): StackState | undefined {
  if (!existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, "utf8")) as StackState;
  } catch (err) {
    // Written halfway (a disk full, a kill mid-write): set aside, so that up starts afresh and says why.
    renameSync(stateFile, `${stateFile}.unreadable`);
    console.error(
      `stack: ${stateFile} was unreadable (${(err as Error).message}); moved to state.json.unreadable. If servers of the earlier stack still listen, the next error names them`,
    );
    return undefined;
  }
}

function writeState(state: StackState): void {
  mkdirSync(stackDir, { recursive: true });
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
}

async function requireFreePort(port: number, envName: string, service: string): Promise<void> {
  if (!(await isPortFree(port))) {
    const who = listenerOf(port);
    throw new StackError(
      `port ${port} on 127.0.0.1 is in use${who ? ` by ${who}` : ""}: stop it, set ${envName} to a free port, or ${service} to use the server that listens there`,
    );
  }
}

function running(server: StartedServer | undefined): server is StartedServer {
  return server !== undefined && isAlive(server.pid);
}

/** A server an earlier `up` started and that still runs: kept in the state, so that `down` still stops it. */
const stillOurs = (previous: { server?: StartedServer } | undefined) =>
  running(previous?.server) ? { server: previous.server } : {};

async function upKafka(previous: StackState["kafka"] | undefined, ports: StackPorts, log: (line: string) => void) {
  const external = kafkaSettingsFromEnv();
  // KAFKA_BROKERS naming the broker this stack runs (a command run with the tests' environment) is not another one.
  if (external && running(previous?.server) && external.brokers.join(",") === previous.brokers.join(",")) {
    log(`Kafka ${kafkaVersion}: already running on ${previous.brokers.join(",")}`);
    return previous;
  }
  if (external) {
    if (!(await kafkaAnswers(external, 15_000))) {
      throw new StackError(`KAFKA_BROKERS=${external.brokers.join(",")}: no broker answered within 15 s`);
    }
    log(`Kafka: using KAFKA_BROKERS=${external.brokers.join(",")}`);
    return { brokers: external.brokers, external: true, ...stillOurs(previous) };
  }
  if (running(previous?.server)) {
    log(`Kafka ${kafkaVersion}: already running on ${previous.brokers.join(",")}`);
    return previous;
  }
  await requireFreePort(ports.kafka, "STACK_KAFKA_PORT", "KAFKA_BROKERS");
  await requireFreePort(ports.kafkaController, "STACK_KAFKA_CONTROLLER_PORT", "KAFKA_BROKERS");
  await requireFreePort(ports.kafkaSasl, "STACK_KAFKA_SASL_PORT", "KAFKA_BROKERS");
  await requireFreePort(ports.kafkaAdmin, "STACK_KAFKA_ADMIN_PORT", "KAFKA_BROKERS");
  log(`Kafka ${kafkaVersion}: starting on 127.0.0.1:${ports.kafka}...`);
  const brokerPorts = { plain: ports.kafka, controller: ports.kafkaController, sasl: ports.kafkaSasl };
  const pid = await startKafkaBroker(brokerPorts, log);
  const brokers = [`127.0.0.1:${ports.kafka}`];
  const server = { pid, ports: [ports.kafka, ports.kafkaController, ports.kafkaSasl], logFile: kafkaLogFile };
  log(`Kafka ${kafkaVersion}: listening on ${brokers[0]} (pid ${pid}, log ${kafkaLogFile})`);
  try {
    const adminServer = await startEventStreamsAdmin(ports.kafkaAdmin, brokers[0] ?? "");
    const eventStreams = {
      brokers: [`127.0.0.1:${ports.kafkaSasl}`],
      adminUrl: `http://127.0.0.1:${ports.kafkaAdmin}`,
      adminServer: { pid: adminServer, ports: [ports.kafkaAdmin], logFile: eventStreamsAdminLogFile },
    };
    log(
      `Kafka as Event Streams: SASL_SSL on ${eventStreams.brokers[0]} (user ${EVENT_STREAMS_USER}), admin API ${eventStreams.adminUrl}`,
    );
    return { brokers, external: false, server, eventStreams };
  } catch (err) {
    await stopGroup(pid);
    throw err;
  }
}

async function upCouch(
  previous: StackState["couch"] | undefined,
  ports: StackPorts,
  inMemory: boolean,
  log: (line: string) => void,
) {
  const external = storeSettingsFromEnv();
  if (external && running(previous?.server) && external.url === previous.url) {
    log(`Store: already running on ${previous.url}`);
    return previous;
  }
  if (external) {
    if (!(await storeAnswers(external, 15_000)))
      throw new StackError(`CLOUDANT_URL=${external.url}: no answer within 15 s`);
    log(`Store: using CLOUDANT_URL=${external.url}`);
    return { url: external.url, external: true, ...stillOurs(previous) };
  }
  if (running(previous?.server)) {
    log(`Store: already running on ${previous.url}`);
    return previous;
  }
  await requireFreePort(ports.couch, "STACK_COUCH_PORT", "CLOUDANT_URL");
  log(
    `Store: starting the CouchDB-compatible server on 127.0.0.1:${ports.couch} (${inMemory ? "in memory" : "on disk"})...`,
  );
  const pid = await startCouchServer(ports.couch, inMemory);
  const url = `http://127.0.0.1:${ports.couch}`;
  log(`Store: CouchDB API on ${url} (pid ${pid}, log ${couchLogFile})`);
  return { url, external: false, server: { pid, ports: [ports.couch], logFile: couchLogFile } };
}

export interface UpOptions {
  inMemory?: boolean;
  log?: (line: string) => void;
}

/** Starts what is not running yet; returns the state, which says which servers this call (or an earlier one) started. */
export async function stackUp(options: UpOptions = {}): Promise<StackState> {
  const log = options.log ?? console.log;
  const ports = portsFromEnv();
  const inMemory = options.inMemory ?? readBoolean(process.env, "STACK_IN_MEMORY") ?? false;
  const previous = readState();
  const state: Partial<StackState> = {};
  // Maven resolves the broker's jars synchronously: done first, so no readiness clock runs while it blocks.
  if (!kafkaSettingsFromEnv() && !running(previous?.kafka.server)) {
    checkJdk();
    ensureKafkaJars(log);
  }
  try {
    // Kafka and the store start side by side: the JVM's start-up dominates.
    const [kafka, couch] = await Promise.allSettled([
      upKafka(previous?.kafka, ports, log),
      upCouch(previous?.couch, ports, inMemory, log),
    ]);
    if (kafka.status === "fulfilled") state.kafka = kafka.value;
    if (couch.status === "fulfilled") state.couch = couch.value;
    const failure = [kafka, couch].find((result) => result.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
    writeState(state as StackState);
    return state as StackState;
  } catch (err) {
    // Leave nothing half-started behind; servers an earlier `up` started keep running.
    const before = new Set(
      [previous?.kafka.server, previous?.kafka.eventStreams?.adminServer, previous?.couch.server].map((s) => s?.pid),
    );
    const startedNow = [state.kafka?.eventStreams?.adminServer, state.kafka?.server, state.couch?.server].filter(
      (server) => server && !before.has(server.pid),
    );
    for (const server of startedNow) if (server) await stopGroup(server.pid);
    if (previous) writeState(previous);
    throw err;
  }
}

/** Stops exactly the servers that `up` started, then checks that their ports are closed. */
export async function stackDown(log: (line: string) => void = console.log): Promise<void> {
  const state = readState();
  if (!state) {
    log("stack: nothing was started");
    return;
  }
  for (const [name, part] of [
    ["Event Streams admin API", { server: state.kafka.eventStreams?.adminServer }],
    ["Kafka", state.kafka],
    ["Store", state.couch],
  ] as const) {
    if (!part.server) continue;
    await stopGroup(part.server.pid);
    for (const port of part.server.ports) {
      if (!(await isPortFree(port))) throw new StackError(`${name} was stopped but port ${port} is still in use`);
    }
    log(`${name}: stopped (pid ${part.server.pid})`);
  }
  rmSync(stateFile, { force: true });
}

/**
 * Stops the broker this stack started, keeps it down for `downMs`, and starts it again on the same ports and data:
 * a broker restart, for fault tests. Refuses a broker the stack did not start.
 */
export async function restartKafka(downMs: number, log: (line: string) => void = console.log): Promise<number> {
  const state = readState();
  const server = state?.kafka.server;
  if (!state || !server)
    throw new StackError("restartKafka: this stack did not start the broker (KAFKA_BROKERS is external)");
  const [plain, controller, sasl] = server.ports;
  if (plain === undefined || controller === undefined || sasl === undefined)
    throw new StackError("restartKafka: the stack state has no ports");
  const stoppedAt = Date.now();
  await stopGroup(server.pid);
  log(`Kafka: stopped (pid ${server.pid}); down for ${downMs / 1000} s`);
  await new Promise((resolve) => setTimeout(resolve, downMs));
  const pid = await startKafkaBroker({ plain, controller, sasl }, log);
  writeState({ ...state, kafka: { ...state.kafka, server: { ...server, pid } } });
  log(`Kafka: started again (pid ${pid}) after ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`);
  return pid;
}

/** Where the clients should connect: the environment the tests and the demo run with. */
/**
 * The environment for a command run beside the stack: KAFKA_BROKERS and CLOUDANT_URL as they are set, or else the
 * addresses of the servers a running stack started (its state names them; their processes still live). What was
 * taken from the stack is listed, for the command to say so.
 */
export function withRunningStack(env: NodeJS.ProcessEnv = process.env): { env: NodeJS.ProcessEnv; taken: string[] } {
  const state = readState();
  const filled: NodeJS.ProcessEnv = { ...env };
  const taken: string[] = [];
  if (!state) return { env: filled, taken };
  if (!env.KAFKA_BROKERS && !state.kafka.external && running(state.kafka.server)) {
    filled.KAFKA_BROKERS = state.kafka.brokers.join(",");
    taken.push(`KAFKA_BROKERS=${filled.KAFKA_BROKERS}`);
  }
  if (!env.CLOUDANT_URL && !state.couch.external && running(state.couch.server)) {
    Object.assign(filled, storeEnv(state));
    taken.push(`CLOUDANT_URL=${filled.CLOUDANT_URL} (and its admin, from .stack/couch/admin.json)`);
  }
  return { env: filled, taken };
}

/** withRunningStack for a command: fills process.env and says on stderr what it took from the stack. */
export function useRunningStack(command: string): void {
  const { env, taken } = withRunningStack(process.env);
  if (taken.length === 0) return;
  Object.assign(process.env, env);
  console.error(`${command}: using the running stack (${taken.join(", ")})`);
}

/** The settings of an existing service, as the environment gives them: its address and every credential. */
function passedThrough(names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name] as string]] : [])));
}

/**
 * The store's address and credentials: those given for an existing one, else the admin of the stack's own (also
 * when CLOUDANT_URL named the stack's own server: a command run with the tests' environment records it so).
 */
function storeEnv(state: StackState): Record<string, string> {
  const given = passedThrough(["CLOUDANT_APIKEY", "CLOUDANT_IAM_URL", "CLOUDANT_USERNAME", "CLOUDANT_PASSWORD"]);
  if (Object.keys(given).length > 0 || !running(state.couch.server)) return { CLOUDANT_URL: state.couch.url, ...given };
  const admin = couchAdmin();
  return { CLOUDANT_URL: state.couch.url, CLOUDANT_USERNAME: admin.username, CLOUDANT_PASSWORD: admin.password };
}

export function clientEnv(state: StackState): Record<string, string> {
  const kafka = state.kafka.external
    ? passedThrough(["KAFKA_SASL_USER", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_MECHANISM", "KAFKA_TLS", "KAFKA_CA"])
    : {};
  return { KAFKA_BROKERS: state.kafka.brokers.join(","), ...kafka, ...storeEnv(state) };
}

/**
 * The same, through the broker's Event Streams face: SASL_SSL with user "token" and the stack's API key, its
 * certificate to trust, the admin API, and messageHubFeed for the triggers.
 */
export function eventStreamsEnv(state: StackState): Record<string, string> {
  const eventStreams = state.kafka.eventStreams;
  if (!eventStreams) throw new StackError("this stack did not start the broker, so it has no Event Streams face");
  return {
    ...clientEnv(state),
    KAFKA_BROKERS: eventStreams.brokers.join(","),
    KAFKA_SASL_USER: EVENT_STREAMS_USER,
    KAFKA_SASL_PASSWORD: eventStreamsSecrets().apiKey,
    KAFKA_CA: eventStreamsCertificate(),
    KAFKA_ADMIN_URL: eventStreams.adminUrl,
    KAFKA_FEED: "messageHubFeed",
  };
}

export async function stackStatus(): Promise<{ up: boolean; lines: string[] }> {
  const state = readState();
  if (!state) return { up: false, lines: ["stack: down (nothing started)"] };
  const kafkaSettings: KafkaSettings = kafkaSettingsFromEnv() ?? {
    brokers: state.kafka.brokers,
    ssl: false,
    clientId: "stack-status",
  };
  const storeSettings: StoreSettings =
    storeSettingsFromEnv() ?? requireStoreSettings(storeSettingsFromEnv(storeEnv(state)));
  const kafkaUp = await kafkaAnswers(kafkaSettings, 5_000);
  const couchUp = await storeAnswers(storeSettings, 5_000);
  const describe = (up: boolean, external: boolean, server?: StartedServer) =>
    `${up ? "up" : "NOT ANSWERING"}${external ? " (external)" : server ? ` (pid ${server.pid})` : ""}`;
  return {
    up: kafkaUp && couchUp,
    lines: [
      `Kafka: ${state.kafka.brokers.join(",")} ${describe(kafkaUp, state.kafka.external, state.kafka.server)}`,
      `Store: ${state.couch.url} ${describe(couchUp, state.couch.external, state.couch.server)}`,
    ],
  };
}

export { StackError };
