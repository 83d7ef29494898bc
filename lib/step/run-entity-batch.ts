// One activation's batch for an entity step: a bulk read of the entities, the pure fold, a bulk write (again for
// entities that met a 409), one producer send and a bulk clear of the outboxes (lib/step/rounds.ts).
import type { DecodedRecord } from "../feed/decode.ts";
import type { BatchIO } from "./batch-io.ts";
import { type EntityDoc, entityDocId, type StepDoc } from "./documents.ts";
import { foldEntity } from "./fold.ts";
import type { BatchReport } from "./report.ts";
import { runUnitBatch } from "./rounds.ts";
import { DEFAULT_RETENTION, type EntityStepSpec } from "./spec.ts";
import { readDocs } from "./store-io.ts";

export function runEntityBatch<S>(
  step: EntityStepSpec<S>,
  records: DecodedRecord[],
  io: BatchIO,
): Promise<BatchReport> {
  const retention = { ...DEFAULT_RETENTION, ...step.retention };
  return runUnitBatch(step, records, io, {
    of: step.entityOf ?? ((event) => event.subject),
    read: (entities) => readDocs<EntityDoc<S>>(io.cloudant, step.database, entities.map(entityDocId)),
    decide: (entity, messages, current, limits) => {
      const fold = foldEntity(step, entity, current.get(entityDocId(entity)), messages, {
        now: io.now(),
        limits,
        retention,
        config: io.config,
      });
      return { doc: fold.doc as StepDoc | undefined, added: fold.added, outcomes: fold.outcomes };
    },
  });
}
