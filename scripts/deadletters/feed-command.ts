// npm run deadletters -- feed list | show <id> | replay <id...>: the lossless feed's dead letters, each a batch.
// A replay fires the letter's trigger with the same batch, with the credentials `npx wsk` would use, and waits for
// the rules' actions to end; every replay is recorded beside the steps' replays.
import type { Kafka } from "kafkajs";
import type { StoreCall } from "../../lib/step/tools.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { UsageError } from "../cli.ts";
import { findTarget, withScheme } from "../wsk/credentials.ts";
import { type FeedReplay, readFeedLetters, replayFeedLetter, type StoredFeedLetter } from "./feed-letters.ts";
import { oneLine, recordReplays, replayDocId, replaysOf } from "./letters.ts";

/** How long a replay waits for the rules' actions to end: longer than an action's default 60 s limit. */
const FOLLOW_MS = 90_000;

export interface FeedCommand {
  verb: string;
  ids: string[];
  topic: string;
  database: string;
  since?: number;
  dryRun: boolean;
}

export async function runFeedCommand(
  command: FeedCommand,
  io: { kafka: Kafka; cloudant: Cloudant; store: StoreCall; by: string },
): Promise<number> {
  const { verb, ids } = command;
  if (!["list", "show", "replay"].includes(verb ?? "")) throw new UsageError(`unknown feed command "${verb}"`);
  if (verb === "show" && ids.length !== 1) throw new UsageError("feed show takes one letter id");
  if (verb === "replay" && ids.length === 0) throw new UsageError("feed replay takes the ids of the letters");
  const all = await readFeedLetters(io.kafka, command.topic);
  const chosen =
    ids.length > 0
      ? ids.map((id) => {
          const found = all.find((stored) => stored.id === id);
          if (!found) throw new UsageError(`no feed dead letter ${id} on ${command.topic} (see feed list)`);
          return found;
        })
      : all.filter((stored) => command.since === undefined || Date.parse(stored.letter.failedAt) >= command.since);
  const replays = await io.store(() => replaysOf<FeedReplay>(io.cloudant, command.database, chosen));
  if (verb === "list") {
    for (const stored of chosen) {
      const { letter } = stored;
      console.log(
        [
          stored.id.padEnd(8),
          letter.failedAt,
          letter.trigger,
          `${letter.topic}:${letter.partition}:${letter.fromOffset}..${letter.toOffset}`,
          `${letter.messages.length} records`,
          `attempts ${letter.attempts}`,
          `replays ${replays.get(stored.id)?.length ?? 0}`,
          oneLine(letter.failures[0]?.error ?? ""),
        ].join("  "),
      );
    }
    console.error(`${chosen.length} of ${all.length} feed dead letters on ${command.topic}`);
    return 0;
  }
  if (verb === "show") {
    const [stored] = chosen as [StoredFeedLetter];
    console.log(JSON.stringify({ id: stored.id, ...stored.letter, replays: replays.get(stored.id) ?? [] }, null, 2));
    return 0;
  }
  if (command.dryRun) {
    for (const stored of chosen) console.log(`would fire ${stored.letter.trigger} with ${stored.id}`);
    return 0;
  }
  const target = await findTarget({});
  console.error(`firing on ${target.apihost} (${target.from})`);
  let failed = 0;
  for (const stored of chosen) {
    const api = {
      url: withScheme(target.apihost),
      ...(target.ca ? { ca: target.ca } : {}),
      ignoreCerts: process.env.OW_IGNORE_CERTS === "true",
    };
    const replay = await replayFeedLetter({ api, authKey: target.auth }, stored, {
      by: io.by,
      followMs: FOLLOW_MS,
      now: Date.now,
    });
    await recordReplays<FeedReplay>({ ...io, database: command.database }, [
      { docId: replayDocId(stored), letter: stored.id, step: stored.letter.trigger, replay },
    ]);
    if (replay.outcome === "succeeded")
      console.log(`replayed ${stored.id}: ${replay.trigger} took it (${replay.activationId})`);
    else {
      failed += 1;
      console.error(`not replayed: ${stored.id}: ${replay.outcome}: ${replay.detail ?? ""}`);
    }
  }
  return failed > 0 ? 1 : 0;
}
