// The lossless Kafka feed: the feed action /whisk.system/lossless/kafkaFeed (in the local OpenWhisk, a built-in;
// elsewhere, an action of the same code) writes registrations, and every provider instance consumes for every
// active registration: instances share each trigger's partitions through Kafka's consumer-group rebalancing, and a
// restarted one resumes from the committed offsets. It talks to OpenWhisk only through its REST API. It follows the
// registrations through the store's changes feed, and shares one Kafka client and one producer between the
// triggers of one Kafka. triggers/ is what the project deploys beside any OpenWhisk, knowing nothing of the domain:
// it imports lib/ and, for the provider host it registers with locally, the type of local/server.ts.
import type { Kafka, Producer } from "kafkajs";
import { describeError } from "../../lib/errors.ts";
import { createIdempotentProducer, createKafka } from "../../lib/kafka/client.ts";
import type { KafkaSettings } from "../../lib/kafka/config.ts";
import type { ApiHost } from "../../lib/openwhisk/fire.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import type { BuiltinProvider, ProviderHost } from "../../local/server.ts";
import { kafkaSettingsOf, losslessLifecycle } from "./lifecycle.ts";
import { type ProviderSettings, providerSettings } from "./lossless-settings.ts";
import { type Registration, Registrations } from "./registrations.ts";
import { TriggerRunner } from "./runner.ts";
import { openKey, sealKey, type TriggerSecrets } from "./sealed-key.ts";
import { Slots } from "./slots.ts";

export interface LosslessFeedOptions {
  cloudant: Cloudant;
  /** Seals the registrations' secrets (sealed-key.ts): the same for every provider and the feed action. */
  registrationsKey: Buffer;
  /** The OpenWhisk this provider fires on; in the local OpenWhisk, its own. A registration for another is refused. */
  api?: ApiHost;
  /** The registrations' database (default lossless-feed-triggers). */
  db?: string;
  settings?: Partial<ProviderSettings>;
  /** False: only the feed action (registrations), no consumers: providers run elsewhere (npm run feed-provider). */
  consume?: boolean;
  log?: (line: string) => void;
}

export const FEED_PACKAGE = "lossless";
export const FEED_ACTION = "kafkaFeed";

/** How long a look at the store's changes feed waits for a change before it asks again. */
const CHANGES_WAIT_MS = 25_000;

/** One Kafka of the provider's triggers: its client and, once a letter needs it, its producer. */
interface Connection {
  kafka: Kafka;
  producer?: Promise<Producer>;
}

export class LosslessFeedProvider implements BuiltinProvider {
  readonly registrations: Registrations;
  readonly settings: ProviderSettings;
  private readonly runners = new Map<string, { rev: string; runner: TriggerRunner }>();
  /** Registrations refused (another API host, secrets that do not open), by revision: said once each. */
  private readonly refused = new Set<string>();
  private readonly connections = new Map<string, Connection>();
  private readonly slots: Slots;
  private host?: ProviderHost;
  private syncing?: Promise<void>;
  private again = false;
  private watching?: Promise<void>;
  private stopped = false;
  private log: (line: string) => void;

  constructor(private readonly options: LosslessFeedOptions) {
    this.registrations = new Registrations(options.cloudant, options.db);
    this.settings = providerSettings(options.settings);
    this.slots = new Slots(this.settings.maxInFlight);
    this.log = options.log ?? ((line) => console.log(line));
  }

  /** The OpenWhisk this provider fires on: the local one it is built into, or the one it was given. */
  private get api(): ApiHost {
    if (this.host) return { url: this.host.apiHost, ...(this.host.ca ? { ca: this.host.ca } : {}) };
    return this.options.api ?? { url: "" };
  }

  private seal = (secrets: TriggerSecrets, trigger: string, apiHost = this.api.url) =>
    sealKey(secrets, { trigger, apiHost }, this.options.registrationsKey);

  private open = (registration: Registration) =>
    openKey(
      registration.sealed,
      { trigger: registration._id, apiHost: registration.apiHost },
      this.options.registrationsKey,
    );

  /** A Kafka client per Kafka (brokers and credentials): every trigger on it shares the client and its producer. */
  private connection(settings: KafkaSettings): Connection {
    const id = JSON.stringify({ ...settings, clientId: undefined });
    let connection = this.connections.get(id);
    if (!connection) {
      connection = { kafka: createKafka(settings) };
      this.connections.set(id, connection);
    }
    return connection;
  }

  private settingsOf(registration: Registration): KafkaSettings {
    return kafkaSettingsOf(registration, this.open(registration).kafkaPassword, "lossless-feed");
  }

  private producer(registration: Registration): Promise<Producer> {
    const connection = this.connection(this.settingsOf(registration));
    connection.producer ??= (async () => {
      const producer = createIdempotentProducer(connection.kafka);
      await producer.connect();
      return producer;
    })().catch((err: unknown) => {
      connection.producer = undefined; // asked again at the next letter
      throw err;
    });
    return connection.producer;
  }

  /** In the local OpenWhisk: the feed action as a built-in, and (unless told not to) the consumers beside it. */
  register(host: ProviderHost): void {
    this.log = (line) => host.log(`lossless feed: ${line}`);
    this.host = host;
    host.registerBuiltin(
      FEED_PACKAGE,
      FEED_ACTION,
      (params, ctx) => {
        const api = { url: ctx.apiHost, ...(host.ca ? { ca: host.ca } : {}) };
        return losslessLifecycle(params, {
          registrations: this.registrations,
          kafka: (settings) => this.connection({ ...settings, clientId: "lossless-feed-lifecycle" }).kafka,
          api,
          namespace: ctx.namespace,
          seal: (secrets, trigger) => this.seal(secrets, trigger, api.url),
          open: (sealed, trigger) => openKey(sealed, { trigger, apiHost: api.url }, this.options.registrationsKey),
          log: ctx.log,
        });
      },
      [
        { key: "feed", value: true },
        {
          key: "description",
          value: "Fire a trigger for a Kafka topic's records; commit only after the actions succeed",
        },
      ],
    );
    void this.registrations.ensure().then(
      () => (this.options.consume === false ? undefined : this.start()),
      (err: unknown) => this.log(`cannot reach the registrations' database: ${err}`),
    );
  }

  /** Consumes for every active registration, and follows their changes, until stop(). */
  async start(): Promise<void> {
    await this.registrations.ensure();
    const since = await this.registrations.lastSeq();
    await this.sync();
    this.watching = this.watch(since);
  }

  /** The store's changes feed: a change to a registration (or a runner that crashed) means a sync. */
  private async watch(since: string): Promise<void> {
    let seq = since;
    let failures = 0;
    while (!this.stopped) {
      try {
        const changed = await this.registrations.changesSince(seq, CHANGES_WAIT_MS);
        seq = changed.lastSeq;
        failures = 0;
        const crashed = [...this.runners.values()].some(({ runner }) => runner.crashed);
        if (changed.count > 0 || crashed) await this.sync();
      } catch (err) {
        failures += 1;
        if (failures === 1) this.log(`reading the registrations' changes failed (${describeError(err)}); trying again`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, this.settings.syncMs * 2 ** failures)));
      }
    }
  }

  /** The runners' view of the registrations: new and changed ones started, removed and paused ones stopped. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        await this.syncOnce();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    let wanted: Registration[];
    try {
      wanted = (await this.registrations.list()).filter((r) => r.active);
    } catch (err) {
      this.log(`reading the registrations failed (${err}); trying again`);
      return;
    }
    const byName = new Map(wanted.map((r) => [r._id, r]));
    for (const [name, { rev, runner }] of this.runners) {
      const registration = byName.get(name);
      if (!registration || registration._rev !== rev || runner.crashed) {
        this.runners.delete(name);
        await runner.stop();
      }
    }
    for (const registration of wanted) {
      if (this.stopped || this.runners.has(registration._id)) continue;
      const authKey = await this.keyOf(registration);
      if (authKey === undefined) continue;
      const runner = new TriggerRunner(registration, authKey, {
        settings: this.settings,
        slots: this.slots,
        api: this.api,
        kafka: (r) => this.connection(this.settingsOf(r)).kafka,
        producer: (r) => this.producer(r),
        log: this.log,
        retire: (r, why, reason) => this.retire(r, why, reason),
      });
      this.runners.set(registration._id, { rev: registration._rev ?? "", runner });
      runner.start().catch(async (err: unknown) => {
        this.log(`[${registration._id}] could not start (${err}); trying again`);
        if (this.runners.get(registration._id)?.runner === runner) this.runners.delete(registration._id);
        await runner.stop();
        setTimeout(() => void this.sync(), this.settings.syncMs);
      });
    }
  }

  /**
   * The trigger owner's key, when the registration is for this provider's OpenWhisk and its sealed secrets open. A
   * registration written before secrets were sealed is sealed now (its next revision is then consumed).
   */
  private async keyOf(registration: Registration): Promise<string | undefined> {
    const refuse = (why: string) => {
      const id = `${registration._id}@${registration._rev}`;
      if (!this.refused.has(id)) this.log(`[${registration._id}] refused: ${why}`);
      this.refused.add(id);
      return undefined;
    };
    if (registration.apiHost !== this.api.url) {
      return refuse(`it is registered for ${registration.apiHost}, and this provider serves ${this.api.url}`);
    }
    if (!registration.sealed && registration.authKey) {
      const { _rev, changedAt, authKey, ...rest } = registration;
      await this.registrations
        .put({ ...rest, sealed: this.seal({ authKey }, registration._id) }, _rev)
        .catch(() => undefined);
      return undefined;
    }
    try {
      return this.open(registration).authKey;
    } catch (err) {
      return refuse(describeError(err));
    }
  }

  /** A trigger deleted without its feed's DELETE is forgotten; one whose key is refused is paused with the reason. */
  private async retire(registration: Registration, why: "gone" | "unauthorized", reason: string): Promise<void> {
    this.log(`[${registration._id}] ${why === "gone" ? "forgotten" : "paused"}: ${reason}`);
    // Only the revision this runner consumed for: a trigger created again meanwhile keeps its new registration.
    if (why === "gone") await this.registrations.remove(registration._id, registration._rev);
    else {
      const { _rev, changedAt, ...rest } = registration;
      await this.registrations.put({ ...rest, active: false, reason }, _rev);
    }
    await this.sync();
  }

  /** The triggers this instance consumes for. */
  get consuming(): string[] {
    return [...this.runners.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.syncing;
    const runners = [...this.runners.values()];
    this.runners.clear();
    await Promise.allSettled(runners.map(({ runner }) => runner.stop()));
    const producers = [...this.connections.values()].flatMap((c) => (c.producer ? [c.producer] : []));
    await Promise.allSettled(producers.map(async (p) => (await p).disconnect()));
    // The changes feed's look in progress ends within its wait; nothing waits for it.
    void this.watching;
  }
}
