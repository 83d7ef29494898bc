// Activation records, kept in memory (newest first when listed), shaped as the controller returns them.
import { randomBytes } from "node:crypto";
import type { KeyValue } from "./key-values.ts";

export const STATUS_NAMES = ["success", "application error", "action developer error", "whisk internal error"] as const;
export const SUCCESS = 0;
export const APPLICATION_ERROR = 1;
export const DEVELOPER_ERROR = 2;
export const WHISK_ERROR = 3;

export interface ActivationResponse {
  statusCode: number;
  result: unknown;
}

export interface Activation {
  namespace: string;
  name: string;
  version: string;
  subject: string;
  activationId: string;
  start: number;
  end: number;
  duration: number;
  response: ActivationResponse;
  logs: string[];
  annotations: KeyValue[];
  publish: boolean;
  cause?: string;
}

export const newActivationId = () => randomBytes(16).toString("hex");

export function responseJson(r: ActivationResponse): Record<string, unknown> {
  return {
    status: STATUS_NAMES[r.statusCode] ?? "whisk internal error",
    statusCode: r.statusCode,
    success: r.statusCode === SUCCESS,
    result: r.result,
  };
}

export function activationJson(a: Activation, full = true): Record<string, unknown> {
  const base: Record<string, unknown> = {
    namespace: a.namespace,
    name: a.name,
    version: a.version,
    subject: a.subject,
    activationId: a.activationId,
    start: a.start,
    end: a.end,
    duration: a.duration,
    statusCode: a.response.statusCode,
    annotations: a.annotations,
    publish: a.publish,
    ...(a.cause ? { cause: a.cause } : {}),
  };
  if (full) {
    base.response = responseJson(a.response);
    base.logs = a.logs;
  }
  return base;
}

/** The result as `?result=true` gives it: the result object itself. */
export function resultJson(a: Activation): unknown {
  return a.response.result ?? {};
}

/**
 * The activation records, newest kept: at most `capacity` of them and `maxBytes` of their JSON, whichever is
 * reached first (a dashboard's answer is a record of 200 KB; 20,000 of those would not fit in memory).
 */
export class ActivationStore {
  private readonly byId = new Map<string, Activation>();
  private readonly order: { activation: Activation; bytes: number }[] = [];
  private readonly waiters = new Map<string, Array<(a: Activation) => void>>();
  private bytes = 0;

  constructor(
    private readonly capacity = 20_000,
    private readonly maxBytes = 128 * 1024 * 1024,
  ) {}

  add(a: Activation): void {
    const bytes = Buffer.byteLength(JSON.stringify(a));
    this.byId.set(a.activationId, a);
    this.order.push({ activation: a, bytes });
    this.bytes += bytes;
    while (this.order.length > 1 && (this.order.length > this.capacity || this.bytes > this.maxBytes)) {
      const old = this.order.shift();
      if (!old) break;
      this.bytes -= old.bytes;
      this.byId.delete(old.activation.activationId);
    }
    const waiting = this.waiters.get(a.activationId);
    if (waiting) {
      this.waiters.delete(a.activationId);
      for (const w of waiting) w(a);
    }
  }

  get(id: string): Activation | undefined {
    return this.byId.get(id);
  }

  list(filter: {
    namespace: string;
    name?: string;
    since?: number;
    upto?: number;
    skip: number;
    limit: number;
  }): Activation[] {
    const out: Activation[] = [];
    let skipped = 0;
    for (let i = this.order.length - 1; i >= 0 && out.length < filter.limit; i--) {
      const a = this.order[i]!.activation;
      if (a.namespace !== filter.namespace) continue;
      if (filter.name !== undefined) {
        const path = a.annotations.find((x) => x.key === "path")?.value;
        const matches = filter.name.includes("/")
          ? typeof path === "string" && path.endsWith(`/${filter.name}`)
          : a.name === filter.name;
        if (!matches) continue;
      }
      if (filter.since !== undefined && a.start < filter.since) continue;
      if (filter.upto !== undefined && a.start > filter.upto) continue;
      if (skipped < filter.skip) {
        skipped++;
        continue;
      }
      out.push(a);
    }
    return out;
  }
}
