// What the built-in feeds share: their settings, the host they registered with, and registering their actions in
// whisk.system when the local OpenWhisk starts.
import type { BuiltinProvider, ProviderHost } from "../server.ts";
import { type FeedSettings, feedSettings } from "./feed-settings.ts";

export abstract class FeedProvider implements BuiltinProvider {
  protected readonly settings: FeedSettings;
  private registeredWith?: ProviderHost;

  constructor(settings: Partial<FeedSettings> = {}) {
    this.settings = feedSettings(settings);
  }

  register(host: ProviderHost): void {
    this.registeredWith = host;
    this.registerActions(host);
  }

  /** The local OpenWhisk this provider's actions run in; their lifecycle runs only once registered. */
  protected get host(): ProviderHost {
    if (!this.registeredWith) throw new Error("the feed provider is not registered with a local OpenWhisk yet");
    return this.registeredWith;
  }

  protected abstract registerActions(host: ProviderHost): void;

  abstract stop(): Promise<void>;
}
