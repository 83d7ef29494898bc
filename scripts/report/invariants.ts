// The system's report and invariants, read from every service's database and every topic once it is quiet:
// stock conserved, no technician over capacity, exactly one terminal work order per maintenance request,
// unique event ids, and nothing in the dead-letter topic that was not put there on purpose.
import type { Kafka } from "kafkajs";
import type { Pump } from "../../functions/assets/registry.ts";
import type { Roster } from "../../functions/crews/roster.ts";
import { reservedCount, type Stock } from "../../functions/parts/stock.ts";
import { DATABASE, isDeadLetterTopic, TOPICS } from "../../functions/topology.ts";
import { readStreams } from "../../lib/step/index.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { readTopicsToEnd } from "./topics.ts";

export interface Invariant {
  name: string;
  holds: boolean;
  detail: string;
}

export interface SagaReport {
  pumps: number;
  readings: number;
  incidents: number;
  workOrders: Record<string, number>;
  compensations: { partsReleased: number; crewsReleased: number };
  deadLetters: number;
  duplicateDeliveries: number;
  invariants: Invariant[];
}

async function entities<S>(cloudant: Cloudant, db: string): Promise<S[]> {
  const rows = await cloudant.postAllDocs({ db, startKey: "entity:", endKey: "entity:\ufff0", includeDocs: true });
  return rows.result.rows.flatMap((row) => (row.doc ? [(row.doc as unknown as { state: S }).state] : []));
}

type Event = { id: string; type: string; subject: string; data: Record<string, unknown> };

export async function sagaReport(kafka: Kafka, cloudant: Cloudant, expectedDeadLetters = 0): Promise<SagaReport> {
  const records = await readTopicsToEnd(
    kafka,
    TOPICS.map((t) => t.topic),
  );
  const events: Event[] = [];
  const byId = new Map<string, string>();
  const conflicts: string[] = [];
  let duplicateDeliveries = 0;
  let deadLetters = 0;
  for (const record of records) {
    if (isDeadLetterTopic(record.topic)) {
      deadLetters += 1;
      continue;
    }
    if (record.topic.endsWith(".retry") || record.value === null) continue;
    const event = JSON.parse(record.value) as Event;
    const seen = byId.get(event.id);
    if (seen === undefined) {
      byId.set(event.id, record.value);
      events.push(event);
    } else if (seen === record.value) duplicateDeliveries += 1;
    else conflicts.push(event.id);
  }
  const ofType = (type: string) => events.filter((e) => e.type === type);
  const requests = ofType("maintenance.requested");

  const workOrderIds = requests.map((r) => `wo-${r.data.incidentId}`);
  const streams = await readStreams(cloudant, DATABASE.workorders, workOrderIds);
  const workOrders: Record<string, number> = {};
  const notOne: string[] = [];
  for (const id of workOrderIds) {
    const emitted = (streams.get(id) ?? []).flatMap((c) => c.entries.flatMap((e) => e.emitted));
    const terminal = emitted.filter((e) => e.type === "workorder.scheduled" || e.type === "workorder.cancelled");
    const state =
      terminal.length === 1 ? terminal[0]?.type.replace("workorder.", "") : terminal.length === 0 ? "open" : "several";
    const reason =
      terminal[0]?.type === "workorder.cancelled" ? `-${(terminal[0].data as { reason: string }).reason}` : "";
    workOrders[`${state}${reason}`] = (workOrders[`${state}${reason}`] ?? 0) + 1;
    if (terminal.length !== 1) notOne.push(`${id}: ${terminal.length} terminal events`);
  }

  const stocks = await entities<Stock>(cloudant, DATABASE.parts);
  const stockProblems = stocks.flatMap((s) => {
    const reserved = reservedCount(s);
    return s.available + reserved + s.consumed === s.atStart + s.restocked && s.available >= 0
      ? []
      : [
          `${s.partType}: ${s.available} available + ${reserved} reserved + ${s.consumed} consumed != ${s.atStart} at start + ${s.restocked} restocked`,
        ];
  });
  const rosters = await entities<Roster>(cloudant, DATABASE.crews);
  const crewProblems = rosters.flatMap((roster) =>
    roster.technicians.flatMap((technician) =>
      Object.entries(roster.load[technician.crewId] ?? {}).flatMap(([day, load]) => {
        const assigned = Object.values(roster.assigned).filter(
          (a) => a.crewId === technician.crewId && a.day === day,
        ).length;
        return load <= technician.capacityPerDay && load === assigned
          ? []
          : [
              `${technician.crewId} on ${day}: load ${load}, ${assigned} assigned, capacity ${technician.capacityPerDay}`,
            ];
      }),
    ),
  );
  const pumps = await entities<Pump>(cloudant, DATABASE.assets);
  const invariants: Invariant[] = [
    {
      name: "stock conserved (available + reserved + consumed = at start + restocked)",
      holds: stockProblems.length === 0,
      detail: stockProblems.join("; ") || `${stocks.length} part types`,
    },
    {
      name: "no technician over capacity",
      holds: crewProblems.length === 0,
      detail: crewProblems.join("; ") || `${rosters.length} sites`,
    },
    {
      name: "exactly one terminal work order per maintenance request",
      holds: notOne.length === 0,
      detail: notOne.slice(0, 5).join("; ") || `${requests.length} requests`,
    },
    {
      name: "event ids unique",
      holds: conflicts.length === 0,
      detail: conflicts.length
        ? `ids with different content: ${conflicts.slice(0, 5).join(", ")}`
        : `${events.length} events`,
    },
    {
      name: "no unexpected dead letters",
      holds: deadLetters === expectedDeadLetters,
      detail: `${deadLetters} dead letters, ${expectedDeadLetters} put there on purpose`,
    },
  ];
  return {
    pumps: pumps.length,
    readings: pumps.reduce((sum, p) => sum + p.readings, 0),
    incidents: requests.length,
    workOrders,
    compensations: { partsReleased: ofType("part.released").length, crewsReleased: ofType("crew.released").length },
    deadLetters,
    duplicateDeliveries,
    invariants,
  };
}

export function printReport(report: SagaReport, log: (line: string) => void = console.log): void {
  log(`pumps ${report.pumps}, readings ${report.readings}, incidents ${report.incidents}`);
  log(
    `work orders: ${
      Object.entries(report.workOrders)
        .map(([state, n]) => `${state} ${n}`)
        .join(", ") || "none"
    }`,
  );
  log(
    `compensations: ${report.compensations.partsReleased} parts released, ${report.compensations.crewsReleased} crews released`,
  );
  log(`dead letters ${report.deadLetters}; duplicate deliveries absorbed ${report.duplicateDeliveries}`);
  for (const invariant of report.invariants)
    log(`${invariant.holds ? "HOLDS " : "BROKEN"} ${invariant.name}: ${invariant.detail}`);
}
