// npm run messages -- produce <topic> [text...] [--key K] [--create]
// npm run messages -- consume <topic> [--from-beginning] [--max N] [--seconds S]
// Plain text messages on any topic, for manual checks (the seed's console producer and consumer). Each text
// argument is one message; without any, each line of stdin is one.

import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import type { Admin, Kafka } from "kafkajs";
import { createConsumer, createIdempotentProducer, ensureTopics } from "../lib/kafka/client.ts";
import { brokerOf, commandLine, numberOption, runCommand, UsageError, usageAsked } from "./cli.ts";

const USAGE = `usage: npm run messages -- produce <topic> [text...] [--key K] [--create]
       npm run messages -- consume <topic> [--from-beginning] [--max N] [--seconds S]
  produce   sends each text argument as one message, or each line of stdin when there is none
            --key K     the record key (default none)   --create    create the topic (4 partitions) if missing
  consume   prints key, partition, offset and value of each message, through a consumer group of its own
            --from-beginning   read what is already there   --max N   stop after N   --seconds S   stop after S s`;

async function requireTopic(admin: Admin, topic: string, create: boolean, creatable = true): Promise<void> {
  const exists = (await admin.listTopics()).includes(topic);
  if (exists) return;
  if (!create) {
    const hint = creatable ? "; add --create to create it" : "";
    throw new Error(`topic ${topic} does not exist (the broker does not create topics on demand)${hint}`);
  }
  await ensureTopics(admin, [{ topic, partitions: 4 }]);
}

async function readStdinLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line !== "") lines.push(line);
  }
  return lines;
}

async function produce(kafka: Kafka, topic: string, texts: string[], key: string | undefined, create: boolean) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await requireTopic(admin, topic, create);
  } finally {
    await admin.disconnect();
  }
  const values = texts.length > 0 ? texts : await readStdinLines();
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  try {
    const sent = await producer.send({ topic, messages: values.map((value) => ({ key: key ?? null, value })) });
    const where = sent.map((r) => `partition ${r.partition} from offset ${r.baseOffset}`).join(", ");
    console.log(`sent ${values.length} message(s) to ${topic}${where ? ` (${where})` : ""}`);
  } finally {
    await producer.disconnect();
  }
}

async function consume(kafka: Kafka, topic: string, fromBeginning: boolean, max?: number, seconds?: number) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await requireTopic(admin, topic, false, false);
  } finally {
    await admin.disconnect();
  }
  const consumer = createConsumer(kafka, `messages-${randomBytes(4).toString("hex")}`);
  let count = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const timer = seconds !== undefined ? setTimeout(finish, seconds * 1000) : undefined;
  process.once("SIGINT", finish);
  process.once("SIGTERM", finish);
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        if (max !== undefined && count >= max) return;
        count += 1;
        const key = message.key === null ? "-" : message.key.toString();
        console.log(`key=${key} partition=${partition} offset=${message.offset} ${message.value?.toString() ?? ""}`);
        if (max !== undefined && count >= max) finish();
      },
    });
    await finished;
  } finally {
    if (timer) clearTimeout(timer);
    process.off("SIGINT", finish);
    process.off("SIGTERM", finish);
    await consumer.disconnect();
  }
  console.error(`${count} message(s) from ${topic}`);
}

async function main(argv: string[]): Promise<number> {
  const parsed = commandLine(
    argv,
    {
      key: { type: "string" },
      create: { type: "boolean" },
      "from-beginning": { type: "boolean" },
      max: { type: "string" },
      seconds: { type: "string" },
    },
    true,
  );
  if (!parsed) return usageAsked(USAGE);
  const { values, positionals } = parsed;
  const [command, topic, ...texts] = positionals;
  if ((command !== "produce" && command !== "consume") || !topic)
    throw new UsageError("a command and a topic are needed");
  const kafka = brokerOf("messages");
  if (!kafka) return 1;
  if (command === "produce") {
    await produce(kafka, topic, texts, values.key, values.create === true);
  } else {
    if (texts.length > 0) throw new UsageError(`consume takes one topic, got also ${texts.join(" ")}`);
    const max = numberOption("max", values.max, { whole: true, above: 0 });
    await consume(
      kafka,
      topic,
      values["from-beginning"] === true,
      max,
      numberOption("seconds", values.seconds, { above: 0 }),
    );
  }
  return 0;
}

runCommand("messages", USAGE, () => main(process.argv.slice(2)));
