// npm run deadletters -- list | show <id> | replay <id...> | replay --step S [--reason R] [--since T]
// The dead letters of every step: what failed and why, and a replay to the step's retry topic (recorded; a letter
// replayed twice is applied once). Reads the stack's addresses when KAFKA_BROKERS and CLOUDANT_URL are not set.
import { TOPIC } from "../functions/topology.ts";
import { createIdempotentProducer, createKafka } from "../lib/kafka/client.ts";
import { kafkaSettingsFromEnv, requireKafkaSettings } from "../lib/kafka/config.ts";
import { isTransientStoreError, retryWithinDeadline } from "../lib/step/tools.ts";
import { createCloudant, ensureDatabase } from "../lib/store/client.ts";
import { requireStoreSettings, storeSettingsFromEnv } from "../lib/store/config.ts";
import { commandLine, runCommand, UsageError, usageAsked } from "./cli.ts";
import { runFeedCommand } from "./deadletters/feed-command.ts";
import {
  type LetterFilter,
  oneLine,
  readLetters,
  replayLetters,
  replaysOf,
  type StoredLetter,
  selectLetters,
} from "./deadletters/letters.ts";
import { useRunningStack } from "./stack/lifecycle.ts";

const USAGE = `usage: npm run deadletters -- list [--step S] [--reason R] [--since T]
       npm run deadletters -- show <id>
       npm run deadletters -- replay <id...>
       npm run deadletters -- replay [--step S] [--reason R] [--since T] [--dry-run]
       npm run deadletters -- feed list [--since T] | feed show <id> | feed replay <id...> [--dry-run]
  ids are <partition>:<offset> on the dead-letter topic; --since takes a time (2026-11-30T10:00Z) or an age (30m, 2h, 1d)
  feed: the lossless feed's letters, each a batch; a replay fires its trigger again and waits for the actions
  --topic T      the dead-letter topic (default ${TOPIC.deadLetter}, for feed ${TOPIC.feedDeadLetter})
  --database D   where replays are recorded (default saga-deadletters)`;

const AGE = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function since(raw: string | undefined, now: number): number | undefined {
  if (raw === undefined) return undefined;
  const age = AGE.exec(raw);
  if (age) return now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS];
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw new UsageError(`--since: "${raw}" is neither a time nor an age like 30m`);
  return at;
}

function originText(stored: StoredLetter): string {
  const { origin } = stored.letter;
  return "topic" in origin ? `${origin.topic}:${origin.partition}:${origin.offset}` : "direct";
}

const OPTIONS = {
  step: { type: "string" },
  reason: { type: "string" },
  since: { type: "string" },
  topic: { type: "string" },
  database: { type: "string", default: "saga-deadletters" },
  "dry-run": { type: "boolean" },
} as const;

type Values = NonNullable<ReturnType<typeof commandLine<typeof OPTIONS>>>["values"];

async function main(argv: string[]): Promise<number> {
  const parsed = commandLine(argv, OPTIONS, true);
  if (!parsed) return usageAsked(USAGE);
  const { values, positionals } = parsed;
  const [command, ...ids] = positionals;
  if (command === undefined) throw new UsageError("a command is needed");
  if (command === "feed") return feedCommand(values, ids);
  if (!["list", "show", "replay"].includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (command === "show" && ids.length !== 1) throw new UsageError("show takes one letter id");
  const filter: LetterFilter = { step: values.step, reason: values.reason, since: since(values.since, Date.now()) };
  const selecting = filter.step !== undefined || filter.reason !== undefined || filter.since !== undefined;
  if (command === "replay" && ids.length === 0 && !selecting) {
    throw new UsageError("replay needs letter ids, or --step, --reason or --since to choose letters");
  }
  const io = await connect(values.database);
  const topic = values.topic ?? TOPIC.deadLetter;
  const all = await readLetters(io.kafka, topic);
  const chosen = ids.length > 0 ? ids.map((id) => findLetter(all, id)) : selectLetters(all, filter);
  const replays = await io.store(() => replaysOf(io.cloudant, values.database, chosen));
  if (command === "list") {
    printList(chosen, replays);
    console.error(`${chosen.length} of ${all.length} dead letters on ${topic}`);
    return 0;
  }
  if (command === "show") {
    const [stored] = chosen as [StoredLetter];
    console.log(JSON.stringify({ id: stored.id, ...stored.letter, replays: replays.get(stored.id) ?? [] }, null, 2));
    return 0;
  }
  if (values["dry-run"]) {
    for (const stored of chosen)
      console.log(`would replay ${stored.id} (${stored.letter.step}, ${stored.letter.reason})`);
    return 0;
  }
  return replay(io, values.database, chosen, replays);
}

/** `feed …`: the lossless feed's letters, each a trigger's batch. */
async function feedCommand(values: Values, ids: string[]): Promise<number> {
  if (values.step !== undefined || values.reason !== undefined)
    throw new UsageError("a feed letter is a trigger's batch, with no step or reason: choose by id or --since");
  const [verb = "", ...letterIds] = ids;
  const io = await connect(values.database);
  return runFeedCommand(
    {
      verb,
      ids: letterIds,
      topic: values.topic ?? TOPIC.feedDeadLetter,
      database: values.database,
      since: since(values.since, Date.now()),
      dryRun: values["dry-run"] ?? false,
    },
    { ...io, by: process.env.USER ?? "cli" },
  );
}

type Replays = Awaited<ReturnType<typeof replaysOf>>;

function printList(chosen: StoredLetter[], replays: Replays): void {
  for (const stored of chosen) {
    const { letter } = stored;
    console.log(
      [
        stored.id.padEnd(8),
        letter.failedAt,
        letter.step.padEnd(18),
        letter.reason.padEnd(17),
        `attempts ${letter.attempts}`,
        `replays ${replays.get(stored.id)?.length ?? 0}`,
        originText(stored),
        oneLine(letter.message),
      ].join("  "),
    );
  }
}

/** Replays each letter to its step's retry topic, recorded; exit 1 when any was refused. */
async function replay(
  connected: Connected,
  database: string,
  chosen: StoredLetter[],
  replays: Replays,
): Promise<number> {
  const producer = createIdempotentProducer(connected.kafka);
  await producer.connect();
  try {
    const io = { ...connected, producer, database, now: Date.now, by: process.env.USER ?? "cli" };
    const { replayed, refused } = await replayLetters(io, chosen);
    for (const { stored, replay } of replayed) {
      const earlier = replays.get(stored.id)?.length ?? 0;
      console.log(
        `replayed ${stored.id} to ${replay.retryTopic}${earlier > 0 ? ` (replayed ${earlier} time(s) before)` : ""}`,
      );
    }
    for (const { stored, why } of refused) console.error(`not replayed: ${stored.id}: ${why}`);
    return refused.length > 0 ? 1 : 0;
  } finally {
    await producer.disconnect();
  }
}

/** Kafka and the store of the running stack (or of KAFKA_BROKERS and CLOUDANT_URL), and the replays' database. */
type Connected = Awaited<ReturnType<typeof connect>>;

async function connect(database: string) {
  useRunningStack("deadletters");
  const kafka = createKafka(requireKafkaSettings(kafkaSettingsFromEnv(process.env, "deadletters")));
  const cloudant = createCloudant(requireStoreSettings(storeSettingsFromEnv(process.env)));
  const store = <T>(fn: () => Promise<T>) =>
    retryWithinDeadline(fn, {
      deadline: { at: Date.now() + 30_000, reserveMs: 0 },
      now: Date.now,
      isTransient: isTransientStoreError,
    });
  await store(() => ensureDatabase(cloudant, database));
  return { kafka, cloudant, store };
}

function findLetter(letters: StoredLetter[], id: string): StoredLetter {
  const found = letters.find((stored) => stored.id === id);
  if (!found) throw new UsageError(`no dead letter ${id} (ids are <partition>:<offset>; see list)`);
  return found;
}

runCommand("deadletters", USAGE, () => main(process.argv.slice(2)));
