// Where the lossless feed keeps its triggers: one document per trigger in a Cloudant (CouchDB) database, as
// apache/openwhisk-package-kafka's provider keeps them, so a restarted provider (or another instance) finds every
// trigger again and resumes from the offsets Kafka kept for the trigger's consumer group.

import { statusOf } from "../../lib/errors.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { ensureDatabase } from "../../lib/store/client.ts";
import type { LosslessRequest } from "./rules.ts";
import type { SealedKey } from "./sealed-key.ts";

/** A trigger's registration: what CREATE accepted (rules.ts), and what the provider needs to fire it. */
export interface Registration extends LosslessRequest {
  /** The trigger, `/namespace/name`: also the Kafka consumer group. */
  _id: string;
  _rev?: string;
  /** The trigger owner's key (a provider fires and reads activations with it) and Kafka's password, sealed. */
  sealed: SealedKey;
  /** Before 0.3: the key in plain text. A provider seals it at its next look, and removes this. */
  authKey?: string;
  /** The API host the trigger lives on: a provider serves only its own. */
  apiHost: string;
  active: boolean;
  /** Why a trigger is not active: paused by its owner, or the platform refused the key. */
  reason?: string;
  changedAt: string;
}

export const DEFAULT_REGISTRATIONS_DB = "lossless-feed-triggers";

export class Registrations {
  constructor(
    readonly cloudant: Cloudant,
    readonly db: string = DEFAULT_REGISTRATIONS_DB,
  ) {}

  async ensure(): Promise<void> {
    await ensureDatabase(this.cloudant, this.db);
  }

  async get(trigger: string): Promise<Registration | undefined> {
    try {
      return (await this.cloudant.getDocument({ db: this.db, docId: trigger })).result as unknown as Registration;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Creates or replaces the trigger's registration (the last writer wins: CREATE and UPDATE are idempotent); with
   * `onlyRev`, only if it is still that revision.
   */
  async put(
    registration: Omit<Registration, "_rev" | "changedAt">,
    onlyRev?: string,
  ): Promise<Registration | undefined> {
    for (;;) {
      const current = await this.get(registration._id);
      if (onlyRev !== undefined && current?._rev !== onlyRev) return undefined;
      const doc = { ...registration, changedAt: new Date().toISOString(), ...(current ? { _rev: current._rev } : {}) };
      try {
        const { result } = await this.cloudant.putDocument({ db: this.db, docId: doc._id, document: doc as never });
        return { ...doc, _rev: result.rev };
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
      }
    }
  }

  /** Deletes the registration; with `onlyRev`, only if it is still that revision (not one written since). */
  async remove(trigger: string, onlyRev?: string): Promise<boolean> {
    for (;;) {
      const current = await this.get(trigger);
      if (!current?._rev || (onlyRev !== undefined && current._rev !== onlyRev)) return false;
      try {
        await this.cloudant.deleteDocument({ db: this.db, docId: trigger, rev: current._rev });
        return true;
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
      }
    }
  }

  /** Where the changes feed is now: a later changesSince starts here. */
  async lastSeq(): Promise<string> {
    const { result } = await this.cloudant.postChanges({ db: this.db, descending: true, limit: 1 });
    return String(result.lastSeq);
  }

  /** The changes after `since`, waiting up to waitMs for one (the changes feed's longpoll): how many, and where to go on. */
  async changesSince(since: string, waitMs: number): Promise<{ count: number; lastSeq: string }> {
    const { result } = await this.cloudant.postChanges({ db: this.db, since, feed: "longpoll", timeout: waitMs });
    return { count: result.results.length, lastSeq: String(result.lastSeq) };
  }

  async list(): Promise<Registration[]> {
    const { result } = await this.cloudant.postAllDocs({ db: this.db, includeDocs: true });
    return result.rows.flatMap((row) =>
      row.doc && !String(row.id).startsWith("_design/") ? [row.doc as unknown as Registration] : [],
    );
  }
}
