// The inbox: the batch as it arrived, landed in the step's database before anything else, and deleted when the
// activation has done its work. OpenWhisk's feed commits a batch when the fire is accepted and never delivers a
// killed activation's messages again; a landed batch whose activation died is what the relay finds (after the
// activation's deadline, when OpenWhisk has surely ended it) and sends to the step's retry topic, so the step applies
// what the dead activation did not (and absorbs, as duplicates, what it did).
import { randomUUID } from "node:crypto";
import type { DecodedRecord } from "../feed/decode.ts";
import type { Cloudant } from "../store/client.ts";
import { statusOf } from "../store/client.ts";
import { originOf } from "./classify.ts";
import type { RecordOrigin } from "./failures.ts";

export interface InboxDoc {
  _id: string;
  _rev?: string;
  kind: "inbox";
  step: string;
  retryTopic: string;
  /** Epoch ms after which the activation that landed it is over, dead or alive. */
  deadline: number;
  records: { origin: RecordOrigin; key: string | null; value: unknown }[];
}

/** A landed batch larger than this is not landed (Cloudant refuses documents over 1 MB): the step goes on without. */
const INBOX_LIMIT_BYTES = 900 * 1024;

export async function landBatch(
  cloudant: Cloudant,
  db: string,
  step: { name: string; retryTopic: string },
  records: DecodedRecord[],
  deadline: number,
): Promise<InboxDoc | undefined> {
  const doc: InboxDoc = {
    _id: `inbox:${step.name}:${process.env.__OW_ACTIVATION_ID ?? randomUUID()}`,
    kind: "inbox",
    step: step.name,
    retryTopic: step.retryTopic,
    deadline,
    records: records.map((record) => {
      const origin = originOf(record);
      return { origin, key: "topic" in origin ? origin.key : null, value: record.rawValue };
    }),
  };
  if (JSON.stringify(doc).length > INBOX_LIMIT_BYTES) return undefined;
  const written = await cloudant.putDocument({ db, docId: doc._id, document: doc as never });
  return { ...doc, _rev: written.result.rev };
}

/** Removes the landed batch once the activation is done with it; a failure leaves it to the relay (duplicates only). */
export async function clearInbox(cloudant: Cloudant, db: string, inbox: InboxDoc | undefined): Promise<void> {
  if (!inbox?._rev) return;
  await cloudant.deleteDocument({ db, docId: inbox._id, rev: inbox._rev }).catch((err: unknown) => {
    if (statusOf(err) !== 404) throw err;
  });
}

/** Landed batches whose activation is over without having cleared them. */
export async function findAbandonedInboxes(
  cloudant: Cloudant,
  db: string,
  now: number,
  limit: number,
): Promise<InboxDoc[]> {
  const response = await cloudant.postFind({ db, selector: { kind: "inbox", deadline: { $lt: now } }, limit });
  return response.result.docs as unknown as InboxDoc[];
}
