// Produced against applied, step by step, once the system is quiet: what every topic holds (each event once, by
// id) against what every service's database says it applied. A shortfall is a lost effect, an excess a doubled one.
import type { Kafka } from "kafkajs";
import type { Pump } from "../../functions/assets/registry.ts";
import type { Roster } from "../../functions/crews/roster.ts";
import type { Watch } from "../../functions/monitoring/detection.ts";
import type { Stock } from "../../functions/parts/stock.ts";
import { DATABASE, DATABASES, isDeadLetterTopic, TOPICS } from "../../functions/topology.ts";
import { sagaSpec } from "../../functions/workorders/saga-step.ts";
import type { StreamCommitDoc } from "../../lib/step/index.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { readTopicsToEnd } from "../report/topics.ts";

type Event = { id: string; type: string; subject: string; causationid?: string; data: Record<string, unknown> };

export interface LedgerRow {
  step: string;
  what: string;
  produced: number;
  applied: number;
  lost: number;
  doubled: number;
}

export interface LargestDocument {
  database: string;
  id: string;
  bytes: number;
  documents: number;
}

export interface Ledger {
  rows: LedgerRow[];
  lost: number;
  doubled: number;
  largest: LargestDocument[];
}

function row(step: string, what: string, produced: number, applied: number): LedgerRow {
  return {
    step,
    what,
    produced,
    applied,
    lost: Math.max(0, produced - applied),
    doubled: Math.max(0, applied - produced),
  };
}

async function allDocs(cloudant: Cloudant, db: string): Promise<Record<string, unknown>[]> {
  const rows = await cloudant.postAllDocs({ db, includeDocs: true });
  return rows.result.rows.flatMap((r) => (r.doc ? [r.doc as Record<string, unknown>] : []));
}

const statesOf = <S>(docs: Record<string, unknown>[]) =>
  docs.filter((doc) => doc.kind === "entity").map((doc) => doc.state as S);

/** Every distinct event on the system's topics (retry and dead-letter topics aside), by id. */
async function eventsOnTopics(kafka: Kafka): Promise<Event[]> {
  const records = await readTopicsToEnd(
    kafka,
    TOPICS.map((t) => t.topic).filter((topic) => !topic.endsWith(".retry") && !isDeadLetterTopic(topic)),
    180_000,
  );
  const byId = new Map<string, Event>();
  for (const record of records) {
    if (record.value === null) continue;
    const event = JSON.parse(record.value) as Event;
    if (!byId.has(event.id)) byId.set(event.id, event);
  }
  return [...byId.values()];
}

export async function computeLedger(kafka: Kafka, cloudant: Cloudant): Promise<Ledger> {
  const events = await eventsOnTopics(kafka);
  const ofType = (...types: string[]) => events.filter((e) => types.includes(e.type));
  const docs = new Map<string, Record<string, unknown>[]>();
  for (const db of DATABASES) docs.set(db, await allDocs(cloudant, db));
  const rows: LedgerRow[] = [];

  const readings = ofType("pump.metric.reported").length;
  const registered = new Set(ofType("pump.registered").map((e) => e.subject)).size;
  const pumps = statesOf<Pump>(docs.get(DATABASE.assets) ?? []);
  rows.push(
    row(
      "assets.registry",
      "readings",
      readings,
      pumps.reduce((sum, p) => sum + p.readings, 0),
    ),
  );
  rows.push(row("assets.registry", "pumps registered", registered, pumps.filter((p) => p.registration).length));
  const watches = statesOf<Watch>(docs.get(DATABASE.monitoring) ?? []);
  rows.push(
    row(
      "monitoring.detect",
      "readings",
      readings,
      watches.reduce((sum, w) => sum + (w.readings ?? 0), 0),
    ),
  );
  rows.push(row("monitoring.detect", "pumps registered", registered, watches.filter((w) => w.nominal).length));

  // The saga records every input it applies in exactly one commit: count each input's commits.
  const commits = (docs.get(DATABASE.workorders) ?? []).filter(
    (doc) => doc.kind === "commit",
  ) as unknown as StreamCommitDoc[];
  const recorded = new Map<string, number>();
  for (const commit of commits)
    for (const entry of commit.entries) recorded.set(entry.input.id, (recorded.get(entry.input.id) ?? 0) + 1);
  const inputs = ofType(...sagaSpec.handles);
  const seen = inputs.filter((e) => recorded.has(e.id)).length;
  const extra = [...recorded.values()].reduce((sum, n) => sum + (n - 1), 0);
  rows.push({ ...row("workorders.saga", "inputs in one commit each", inputs.length, seen), doubled: extra });

  // Parts and crews answer each request once, unless the order's cancellation overtook the request.
  const cancelled = new Set(ofType("workorder.cancelled").map((e) => String(e.data.workOrderId)));
  const answered = (requests: Event[], answers: Event[]) => {
    const causes = new Set(answers.map((a) => a.causationid));
    return requests.filter((r) => causes.has(r.id) || cancelled.has(String(r.data.workOrderId))).length;
  };
  const openings = ofType("workorder.opened");
  const reservations = ofType("part.reserved");
  rows.push(
    row(
      "parts.stock",
      "openings answered",
      openings.length,
      answered(openings, ofType("part.reserved", "part.unavailable")),
    ),
  );
  const stocks = statesOf<Stock>(docs.get(DATABASE.parts) ?? []);
  const reservedOnTopic = reservations.length;
  const reservedInStock = stocks.reduce(
    (sum, s) => sum + Object.keys(s.reserved).length + s.consumed + s.tally.released,
    0,
  );
  rows.push(row("parts.stock", "reservations (held, consumed or released)", reservedOnTopic, reservedInStock));
  const delivered = ofType("parts.restocked").reduce((sum, e) => sum + Number(e.data.quantity), 0);
  const deliveredToKnown = ofType("parts.restocked")
    .filter((e) => stocks.some((s) => s.partType === e.subject))
    .reduce((sum, e) => sum + Number(e.data.quantity), 0);
  rows.push(
    row(
      "parts.stock",
      "parts delivered",
      deliveredToKnown,
      stocks.reduce((sum, s) => sum + s.restocked, 0),
    ),
  );
  if (delivered !== deliveredToKnown) rows.at(-1)!.what += ` (of ${delivered}: some for part types never stocked)`;

  const rosters = statesOf<Roster>(docs.get(DATABASE.crews) ?? []);
  rows.push(
    row(
      "crews.roster",
      "reservations answered",
      reservations.length,
      answered(reservations, ofType("crew.assigned", "crew.unavailable")),
    ),
  );
  rows.push(
    row(
      "crews.roster",
      "assignments",
      ofType("crew.assigned").length,
      rosters.reduce((s, r) => s + r.tally.assigned, 0),
    ),
  );
  rows.push(
    row(
      "crews.roster",
      "releases",
      ofType("crew.released").length,
      rosters.reduce((s, r) => s + r.tally.released, 0),
    ),
  );

  const largest = DATABASES.map((database) => {
    const all = docs.get(database) ?? [];
    const sized = all.map((doc) => ({ id: String(doc._id), bytes: Buffer.byteLength(JSON.stringify(doc)) }));
    const top = sized.reduce((best, doc) => (doc.bytes > best.bytes ? doc : best), { id: "(none)", bytes: 0 });
    return { database, ...top, documents: all.length };
  });
  return {
    rows,
    lost: rows.reduce((sum, r) => sum + r.lost, 0),
    doubled: rows.reduce((sum, r) => sum + r.doubled, 0),
    largest,
  };
}
