// 20,000 work orders over a week, folded through the real handlers with the kit's own fold (applied keys,
// retention and all), as the steps would write them: no document of any service grows past 100 KB.
import test from "ava";
import { applyToPump } from "../../functions/assets/registry.ts";
import { rosterSpec } from "../../functions/crews/roster-step.ts";
import { catalog } from "../../functions/events.ts";
import { watchPump } from "../../functions/monitoring/detection.ts";
import { stockSpec } from "../../functions/parts/stock-step.ts";
import { sagaSpec } from "../../functions/workorders/saga-step.ts";
import { type CloudEvent, idempotencyKey } from "../../lib/events/envelope.ts";
import { foldEntity, type PendingEvent } from "../../lib/step/apply.ts";
import type { EventMessage } from "../../lib/step/classify.ts";
import type { EntityDoc } from "../../lib/step/documents.ts";
import { DEFAULT_LIMITS, DEFAULT_RETENTION, type EntityStepSpec, type StreamCommitDoc } from "../../lib/step/index.ts";
import { decideCommit } from "../../lib/step/rounds.ts";
import { untyped } from "../../lib/step/spec.ts";

const LIMIT = 100 * 1024;
const ORDERS = Number(process.env.ORDERS ?? 20_000);
const PER_BATCH = 50;
const ORDER_EVERY_MS = 30_000; // 20,000 orders in just under 7 days: the whole retention window
const SITES = Array.from({ length: 20 }, (_, i) => `site-${i}`);
const PARTS = [
  ["cooling-fan", "mechanical"],
  ["seal-kit", "hydraulic"],
  ["motor-winding", "electrical"],
  ["impeller", "hydraulic"],
  ["bearing", "mechanical"],
] as const;
const config = { stock_default: 20, crews_capacity_per_day: 20, workorder_deadline_ms: 600_000 };

let sequence = 0;
function event(type: string, subject: string, data: Record<string, unknown>, at: number): CloudEvent {
  sequence += 1;
  return catalog.build(type as never, {
    id: `e-${sequence}`,
    source: "/test",
    subject,
    data: data as never,
    time: new Date(at).toISOString(),
  });
}

const bytes = (doc: unknown) => Buffer.byteLength(JSON.stringify(doc));

/** Entities of one entity step, folded batch after batch as the step would write them; the largest size seen. */
class EntityStore<S> {
  readonly docs = new Map<string, EntityDoc<S>>();
  largest = 0;
  constructor(private readonly spec: EntityStepSpec<S>) {}

  apply(events: CloudEvent[], now: number): CloudEvent[] {
    const byEntity = new Map<string, PendingEvent[]>();
    events.forEach((e, index) => {
      const entity = this.spec.entityOf ? this.spec.entityOf(e) : e.subject;
      byEntity.set(entity, [...(byEntity.get(entity) ?? []), { index, event: e, key: idempotencyKey(e), attempt: 1 }]);
    });
    const emitted: CloudEvent[] = [];
    for (const [entity, pending] of byEntity) {
      const fold = foldEntity(this.spec, entity, this.docs.get(entity), pending, {
        now,
        limits: DEFAULT_LIMITS,
        retention: DEFAULT_RETENTION,
        config,
      });
      if (!fold.doc) continue;
      // The outbox is cleared once published, as the step does.
      const written = { ...fold.doc, outbox: [] };
      this.largest = Math.max(this.largest, bytes(fold.doc));
      this.docs.set(entity, written);
      emitted.push(...fold.added.map((entry) => entry.event));
    }
    return emitted;
  }
}

test("20,000 work orders in a week: no document of any service exceeds 100 KB", (t) => {
  t.timeout(300_000);
  const parts = new EntityStore(untyped(stockSpec));
  const crews = new EntityStore(untyped(rosterSpec));
  const sagaStep = untyped(sagaSpec);
  const streams = new Map<string, StreamCommitDoc[]>();
  let largestCommit = 0;
  const saga = (inputs: CloudEvent[], now: number): CloudEvent[] => {
    const out: CloudEvent[] = [];
    for (const input of inputs) {
      const stream = sagaStep.streamOf(input);
      const commits = streams.get(stream) ?? [];
      const message = { index: 0, event: input, key: idempotencyKey(input), attempt: 1 } as unknown as EventMessage;
      const decided = decideCommit(sagaStep, stream, commits, [message], { now, limits: DEFAULT_LIMITS, config });
      if (!decided.commit) continue;
      largestCommit = Math.max(largestCommit, bytes(decided.commit));
      streams.set(stream, [...commits, decided.commit]);
      out.push(...decided.added.map((entry) => entry.event));
    }
    return out;
  };
  const ofTypes = (events: CloudEvent[], ...types: string[]) => events.filter((e) => types.includes(e.type));

  let now = Date.parse("2026-11-01T00:00:00Z");
  for (let first = 0; first < ORDERS; first += PER_BATCH) {
    const requests = Array.from({ length: PER_BATCH }, (_, k) => {
      const i = first + k;
      const [partType, skill] = PARTS[i % PARTS.length] ?? PARTS[0];
      const incidentId = `pump-${i % 400}-incident-${i}`;
      return event(
        "maintenance.requested",
        incidentId,
        {
          incidentId,
          assetId: `pump-${i % 400}`,
          site: SITES[(i * 7) % SITES.length],
          problem: "overheating",
          partType,
          skill,
          requestedBy: "monitoring",
          detectedAt: new Date(now).toISOString(),
        },
        now,
      );
    });
    const opened = saga(requests, now);
    const partAnswers = parts.apply(opened, now);
    const crewAnswers = crews.apply(ofTypes(partAnswers, "part.reserved"), now);
    const terminal = saga([...ofTypes(partAnswers, "part.unavailable"), ...crewAnswers], now);
    parts.apply(terminal, now);
    crews.apply(ofTypes(terminal, "workorder.cancelled"), now);
    if (first % 1_000 === 0) {
      const deliveries = PARTS.map(([partType]) =>
        event(
          "parts.restocked",
          partType,
          { partType, quantity: 200, deliveryId: `d-${first}`, deliveredBy: "schedule" },
          now,
        ),
      );
      parts.apply(deliveries, now);
    }
    now += PER_BATCH * ORDER_EVERY_MS;
  }

  const outcomes = [...streams.values()].map((commits) => {
    const emitted = commits.flatMap((c) => c.entries.flatMap((e) => e.emitted.map((x) => x.type)));
    return emitted.includes("workorder.scheduled")
      ? "scheduled"
      : emitted.includes("workorder.cancelled")
        ? "cancelled"
        : "open";
  });
  t.is(streams.size, ORDERS);
  t.true(
    outcomes.filter((o) => o === "scheduled").length > ORDERS / 4,
    "a good share is scheduled, not only cancelled",
  );
  t.is(outcomes.filter((o) => o === "open").length, 0);
  t.log(`largest documents: parts ${parts.largest} B, crews ${crews.largest} B, work-order commit ${largestCommit} B`);
  t.true(parts.largest <= LIMIT, `parts: ${parts.largest} bytes`);
  t.true(crews.largest <= LIMIT, `crews: ${crews.largest} bytes`);
  t.true(largestCommit <= LIMIT, `workorders: ${largestCommit} bytes`);
  for (const doc of parts.docs.values()) {
    const s = doc.state;
    t.is(s.available + Object.keys(s.reserved).length + s.consumed, s.atStart + s.restocked, `${s.partType} conserved`);
  }
});

test("a pump's documents stay small however many readings it reports", (t) => {
  const monitoring = new EntityStore({
    ...stockSpec,
    name: "monitoring.detect",
    entityOf: undefined,
    handle: watchPump,
  } as never);
  const assets = new EntityStore({
    ...stockSpec,
    name: "assets.registry",
    entityOf: undefined,
    handle: applyToPump,
  } as never);
  let now = Date.parse("2026-11-01T00:00:00Z");
  const nominal = { rotation: 1450, current: 10, pressure: 5, flowRate: 20, temperature: 60 };
  const registered = event(
    "pump.registered",
    "pump-1",
    {
      assetId: "pump-1",
      type: "centrifugal",
      os: "rtos",
      version: "1",
      ipAddress: "10.0.0.1",
      antivirus: "none",
      site: "harbour",
      latitude: 45,
      longitude: 4,
      creationDate: new Date(now).toISOString(),
      nominal,
    },
    now,
  );
  monitoring.apply([registered], now);
  assets.apply([registered], now);
  for (let batch = 0; batch < 60; batch += 1) {
    const readings = Array.from({ length: 100 }, () => {
      now += 1_000;
      const timestamp = new Date(now).toISOString();
      return event("pump.metric.reported", "pump-1", { assetId: "pump-1", ...nominal, timestamp }, now);
    });
    monitoring.apply(readings, now);
    assets.apply(readings, now);
  }
  t.is((monitoring.docs.get("pump-1")?.state as { readings: number } | undefined)?.readings, 6_000);
  t.true(monitoring.largest <= LIMIT, `monitoring: ${monitoring.largest} bytes`);
  t.true(assets.largest <= LIMIT, `assets: ${assets.largest} bytes`);
});
