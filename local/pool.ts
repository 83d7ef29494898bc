// Warm containers per action revision: reused while warm, one activation at a time unless the action's concurrency
// limit allows more, evicted least-recently-used when the pool is full, removed after an idle time.
import type { Container } from "./container.ts";

export interface Acquired {
  container: Container;
  cold: boolean;
}

export class ContainerPool {
  private readonly byKey = new Map<string, Container[]>();
  private readonly waiters: Array<() => void> = [];
  private readonly reaper: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly maxContainers: number,
    private readonly idleMs: number,
  ) {
    this.reaper = setInterval(() => this.reap(), Math.max(50, Math.min(idleMs, 10_000)));
    this.reaper.unref();
  }

  private all(): Container[] {
    return [...this.byKey.values()].flat();
  }

  size(): number {
    return this.all().length;
  }

  async acquire(key: string, concurrency: number, spawn: () => Container): Promise<Acquired> {
    for (;;) {
      if (this.stopped) throw new Error("the local OpenWhisk is stopping");
      const list = this.byKey.get(key) ?? [];
      const warm = list.find((c) => !c.destroyed && c.initialized && c.active < concurrency);
      if (warm) {
        warm.active += 1;
        warm.lastUsed = Date.now();
        return { container: warm, cold: false };
      }
      if (this.size() < this.maxContainers) {
        const container = spawn();
        container.active = 1;
        list.push(container);
        this.byKey.set(key, list);
        return { container, cold: true };
      }
      const idle = this.all()
        .filter((c) => c.active === 0)
        .sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (idle) {
        await this.remove(idle);
        continue;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async release(container: Container, discard: boolean): Promise<void> {
    container.active = Math.max(0, container.active - 1);
    container.lastUsed = Date.now();
    if (discard || container.destroyed) await this.remove(container);
    this.waiters.shift()?.();
  }

  private async remove(container: Container): Promise<void> {
    for (const [key, list] of this.byKey) {
      const i = list.indexOf(container);
      if (i >= 0) {
        list.splice(i, 1);
        if (list.length === 0) this.byKey.delete(key);
      }
    }
    await container.destroy();
    this.waiters.shift()?.();
  }

  /** Removes the idle containers whose key starts with the prefix (an action updated or deleted). */
  purge(prefix: string): void {
    for (const [key, list] of [...this.byKey]) {
      if (!key.startsWith(prefix)) continue;
      for (const c of list.filter((c) => c.active === 0)) void this.remove(c);
    }
  }

  private reap(): void {
    const now = Date.now();
    for (const c of this.all()) {
      if (c.active === 0 && now - c.lastUsed > this.idleMs) void this.remove(c);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reaper);
    const all = this.all();
    this.byKey.clear();
    await Promise.all(all.map((c) => c.destroy()));
    for (const w of this.waiters.splice(0)) w();
  }
}
