// The lossless Kafka feed: the feed action /whisk.system/lossless/kafkaFeed (in the local OpenWhisk, a built-in;
// elsewhere, an action of the same code) writes registrations, and every provider instance consumes for every
// active registration: instances share each trigger's partitions through Kafka's consumer-group rebalancing, and a
// restarted one resumes from the committed offsets. It talks to OpenWhisk only through its REST API.
import type { Kafka } from "kafkajs";
import { createKafka } from "../../lib/kafka/client.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import type { BuiltinProvider, ProviderHost } from "../../local/server.ts";
import { losslessLifecycle } from "./lifecycle.ts";
import { type Registration, Registrations } from "./registrations.ts";
import { TriggerRunner } from "./runner.ts";
import { openKey, sealKey } from "./sealed-key.ts";
import { type ProviderSettings, providerSettings } from "./settings.ts";
import { Slots } from "./slots.ts";

export interface LosslessFeedOptions {
  cloudant: Cloudant;
  /** Seals the trigger owners' keys in the registrations (sealed-key.ts): the same for every provider and the feed action. */
  registrationsKey: Buffer;
  /** The OpenWhisk this provider fires on; in the local OpenWhisk, its own. A registration for another is refused. */
  apiHost?: string;
  /** The registrations' database (default lossless-feed-triggers). */
  db?: string;
  settings?: Partial<ProviderSettings>;
  /** False: only the feed action (registrations), no consumers: providers run elsewhere (npm run feed-provider). */
  consume?: boolean;
  log?: (line: string) => void;
}

export const FEED_PACKAGE = "lossless";
export const FEED_ACTION = "kafkaFeed";

export class LosslessFeedProvider implements BuiltinProvider {
  readonly registrations: Registrations;
  readonly settings: ProviderSettings;
  private readonly runners = new Map<string, { rev: string; runner: TriggerRunner }>();
  /** Registrations refused (another API host, a key that does not open), by revision: said once each. */
  private readonly refused = new Set<string>();
  private host?: ProviderHost;
  private readonly slots: Slots;
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private stopped = false;
  private log: (line: string) => void;

  constructor(private readonly options: LosslessFeedOptions) {
    this.registrations = new Registrations(options.cloudant, options.db);
    this.settings = providerSettings(options.settings);
    this.slots = new Slots(this.settings.maxInFlight);
    this.log = options.log ?? ((line) => console.log(line));
  }

  /** The OpenWhisk this provider fires on: the local one it is built into, or the one it was given. */
  private get apiHost(): string {
    return this.host?.apiHost ?? this.options.apiHost ?? "";
  }

  private kafka(brokers: string[], name: string): Kafka {
    return createKafka({
      brokers,
      clientId: `lossless-feed${name.replaceAll("/", "-")}`,
      ssl: false,
    });
  }

  /** In the local OpenWhisk: the feed action as a built-in, and (unless told not to) the consumers beside it. */
  register(host: ProviderHost): void {
    this.log = (line) => host.log(`lossless feed: ${line}`);
    this.host = host;
    host.registerBuiltin(
      FEED_PACKAGE,
      FEED_ACTION,
      (params, ctx) =>
        losslessLifecycle(params, {
          registrations: this.registrations,
          kafka: (brokers) => this.kafka(brokers, "-lifecycle"),
          apiHost: ctx.apiHost,
          namespace: ctx.namespace,
          seal: (authKey, trigger) =>
            sealKey(authKey, { trigger, apiHost: ctx.apiHost }, this.options.registrationsKey),
          log: ctx.log,
        }),
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

  /** Consumes for every active registration, and follows their changes every syncMs, until stop(). */
  async start(): Promise<void> {
    await this.registrations.ensure();
    await this.sync();
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.sync().finally(tick), this.settings.syncMs);
    };
    tick();
  }

  /** The runners' view of the registrations: new and changed ones started, removed and paused ones stopped. */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
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
          kafka: (r) => this.kafka(r.brokers, r._id),
          log: this.log,
          retire: (r, why, reason) => this.retire(r, why, reason),
        });
        this.runners.set(registration._id, { rev: registration._rev ?? "", runner });
        runner.start().catch(async (err: unknown) => {
          this.log(`[${registration._id}] could not start (${err}); trying again`);
          if (this.runners.get(registration._id)?.runner === runner) this.runners.delete(registration._id);
          await runner.stop();
        });
      }
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /**
   * The trigger owner's key, when the registration is for this provider's OpenWhisk and its sealed key opens. A
   * registration written before keys were sealed is sealed now (its next revision is then consumed).
   */
  private async keyOf(registration: Registration): Promise<string | undefined> {
    const refuse = (why: string) => {
      const id = `${registration._id}@${registration._rev}`;
      if (!this.refused.has(id)) this.log(`[${registration._id}] refused: ${why}`);
      this.refused.add(id);
      return undefined;
    };
    if (registration.apiHost !== this.apiHost) {
      return refuse(`it is registered for ${registration.apiHost}, and this provider serves ${this.apiHost}`);
    }
    const binding = { trigger: registration._id, apiHost: registration.apiHost };
    if (!registration.sealedKey && registration.authKey) {
      const { _rev, changedAt, authKey, ...rest } = registration;
      const sealedKey = sealKey(authKey, binding, this.options.registrationsKey);
      await this.registrations.put({ ...rest, sealedKey }, _rev).catch(() => undefined);
      return undefined;
    }
    try {
      return openKey(registration.sealedKey, binding, this.options.registrationsKey);
    } catch (err) {
      return refuse(err instanceof Error ? err.message : String(err));
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
    clearTimeout(this.timer);
    await this.syncing;
    const runners = [...this.runners.values()];
    this.runners.clear();
    await Promise.allSettled(runners.map(({ runner }) => runner.stop()));
  }
}
