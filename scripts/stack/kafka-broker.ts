// The embedded Apache Kafka broker: jars from Maven Central (kafka-pom.xml), one KRaft node on the local JDK.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createKafka } from "../../lib/kafka/client.ts";
import type { KafkaSettings } from "../../lib/kafka/config.ts";
import { eventStreamsSecrets, saslListenerProperties } from "./event-streams.ts";
import { repoRoot, stackDir } from "./paths.ts";
import { StackError, startDetached, waitUntilReady } from "./processes.ts";

const pomFile = join(repoRoot, "scripts/stack/kafka-pom.xml");
const kafkaDir = join(stackDir, "kafka");
const libDir = join(kafkaDir, "lib");
const dataDir = join(kafkaDir, "data");
export const kafkaLogFile = join(kafkaDir, "server.log");

export const kafkaVersion =
  /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomFile, "utf8"))?.[1] ?? "unknown";

export function checkJdk(): void {
  const probe = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (probe.error) throw new StackError("no JDK found (java is not on PATH): install a JDK 17+ or set KAFKA_BROKERS");
  const major = Number(/version "(\d+)/.exec(probe.stderr)?.[1]);
  if (!(major >= 17)) {
    throw new StackError(`the JDK on PATH is version ${major || "unknown"}: install a JDK 17+ or set KAFKA_BROKERS`);
  }
}

/** Resolves the broker's jars through Maven once; later starts use the copy in .stack/kafka/lib. */
export function ensureKafkaJars(log: (line: string) => void): void {
  const brokerJar = `kafka_2.13-${kafkaVersion}.jar`;
  if (existsSync(join(libDir, brokerJar))) return;
  if (spawnSync("mvn", ["--version"]).error) {
    throw new StackError("Maven (mvn) is not on PATH: install Maven and a JDK 17+, or set KAFKA_BROKERS");
  }
  log(`resolving Apache Kafka ${kafkaVersion} jars with Maven (first run only)...`);
  mkdirSync(kafkaDir, { recursive: true });
  const mvn = spawnSync(
    "mvn",
    [
      "-B",
      "-q",
      "-f",
      pomFile,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${libDir}`,
      "-DincludeScope=runtime",
    ],
    { encoding: "utf8" },
  );
  writeFileSync(join(kafkaDir, "maven.log"), `${mvn.stdout ?? ""}${mvn.stderr ?? ""}`);
  if (mvn.status !== 0 || !existsSync(join(libDir, brokerJar))) {
    throw new StackError(
      `Maven could not download org.apache.kafka:kafka_2.13:${kafkaVersion} (is Maven Central reachable?); ` +
        `see ${join(kafkaDir, "maven.log")}, or set KAFKA_BROKERS`,
    );
  }
}

export interface BrokerPorts {
  /** PLAINTEXT, as a self-hosted Kafka. */
  plain: number;
  controller: number;
  /** SASL_SSL, as IBM Event Streams. */
  sasl: number;
}

function writeBrokerConfig(ports: BrokerPorts): string {
  const file = join(kafkaDir, "server.properties");
  const { plain, controller, sasl } = ports;
  const properties = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": `1@127.0.0.1:${controller}`,
    listeners: `PLAINTEXT://127.0.0.1:${plain},CONTROLLER://127.0.0.1:${controller},SASL_SSL://127.0.0.1:${sasl}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${plain},SASL_SSL://127.0.0.1:${sasl}`,
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
    ...saslListenerProperties(eventStreamsSecrets()),
    "inter.broker.listener.name": "PLAINTEXT",
    "log.dirs": dataDir,
    "auto.create.topics.enable": "false",
    "num.partitions": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "10",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "log.retention.hours": "24",
  };
  writeFileSync(
    file,
    Object.entries(properties)
      .map(([key, value]) => `${key}=${value}`)
      .join("\n"),
    { mode: 0o600 },
  );
  writeFileSync(
    join(kafkaDir, "log4j.properties"),
    [
      "log4j.rootLogger=WARN, stdout",
      "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
      "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
      "log4j.logger.kafka.server.KafkaRaftServer=INFO",
    ].join("\n"),
  );
  return file;
}

function java(args: string[]): string[] {
  return [`-Dlog4j.configuration=file:${join(kafkaDir, "log4j.properties")}`, "-cp", `${libDir}/*`, ...args];
}

/** KRaft needs its log directory formatted once, with a cluster id, before the first start. */
function formatStorageOnce(configFile: string): void {
  if (existsSync(dataDir) && readdirSync(dataDir).includes("meta.properties")) return;
  const clusterId = spawnSync("java", java(["kafka.tools.StorageTool", "random-uuid"]), {
    encoding: "utf8",
  }).stdout.trim();
  const format = spawnSync("java", java(["kafka.tools.StorageTool", "format", "-t", clusterId, "-c", configFile]), {
    encoding: "utf8",
  });
  if (format.status !== 0) {
    // One line: the exception's message, not Java's stack trace.
    const why = (format.stderr || format.stdout).split("\n").find((line) => line.trim() !== "") ?? "";
    throw new StackError(`formatting the Kafka log directory ${dataDir} failed: ${why.trim()}`);
  }
}

export async function startKafkaBroker(ports: BrokerPorts, log: (line: string) => void): Promise<number> {
  checkJdk();
  ensureKafkaJars(log);
  const configFile = writeBrokerConfig(ports);
  const port = ports.plain;
  formatStorageOnce(configFile);
  const pid = startDetached("java", ["-Xms128m", "-Xmx512m", ...java(["kafka.Kafka", configFile])], kafkaLogFile);
  const settings: KafkaSettings = { brokers: [`127.0.0.1:${port}`], ssl: false, clientId: "stack-readiness" };
  await waitUntilReady({
    what: `Kafka ${kafkaVersion} on 127.0.0.1:${port}`,
    pid,
    logFile: kafkaLogFile,
    timeoutMs: 90_000,
    ready: () => kafkaAnswers(settings, 3_000),
  });
  return pid;
}

/** True when the cluster answers a metadata request through KafkaJS within timeoutMs, tried again until then. */
export async function kafkaAnswers(settings: KafkaSettings, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const kafka = createKafka({ ...settings, clientId: "stack-readiness" }, 0);
    const admin = kafka.admin({ retry: { retries: 0 } });
    const left = Math.max(500, until - Date.now());
    const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.min(left, 5_000)).unref());
    const probe = (async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    })().catch(() => false);
    try {
      if (await Promise.race([probe, timeout])) return true;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() + 250 >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
