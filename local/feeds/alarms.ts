// /whisk.system/alarms/alarm (cron), /whisk.system/alarms/interval (minutes) and /whisk.system/alarms/once (date),
// behaving as apache/openwhisk-package-alarms does: the trigger is fired with trigger_payload ({payload: s} when it
// is a string); 408, 409, 429 and 5xx are retried, other 4xx disable the trigger with the reason visible in READ.
import { Cron } from "croner";
import { SagaError } from "../../lib/errors.ts";
import { feedTriggerName, fireTrigger, getTrigger, shouldDisable, sleep } from "../../lib/openwhisk/fire.ts";
import type { BuiltinContext } from "../entities.ts";
import type { ProviderHost } from "../server.ts";
import { FeedProvider } from "./provider.ts";

/** What the alarms provider refuses, in its own words: the feed action answers it as its error. */
class AlarmRefusal extends SagaError {
  override name = "AlarmRefusal";
}

type Kind = "cron" | "interval" | "once";

interface AlarmStatus {
  active: boolean;
  dateChanged: number;
  reason?: { kind: string; statusCode?: number; message: string };
}

interface Alarm {
  kind: Kind;
  triggerName: string;
  authKey: string;
  payload: Record<string, unknown>;
  cron?: string;
  timezone?: string;
  minutes?: number;
  date?: string;
  startDate?: number;
  stopDate?: number;
  status: AlarmStatus;
  job?: Cron;
  timer?: NodeJS.Timeout;
}

const RETRIES = 5;

function parseDate(value: unknown, field: string): number {
  const ms = typeof value === "number" ? value : Date.parse(String(value));
  if (!Number.isFinite(ms)) throw new AlarmRefusal(`${field} parameter '${value}' is not a valid Date`);
  return ms;
}

/** A READ's answer, in upstream's shape: the alarm's parameters and its status. */
function described(triggerName: string, alarm: Alarm): Record<string, unknown> {
  const [, namespace, name] = triggerName.split("/");
  const config: Record<string, unknown> = { name, namespace, payload: alarm.payload };
  if (alarm.kind === "once") config.date = alarm.date;
  else {
    config.startDate = alarm.startDate;
    config.stopDate = alarm.stopDate;
    if (alarm.kind === "interval") config.minutes = alarm.minutes;
    else {
      config.cron = alarm.cron;
      config.timezone = alarm.timezone;
    }
  }
  const { status } = alarm;
  return {
    config,
    status: {
      active: status.active,
      dateChanged: status.dateChanged,
      dateChangedISO: new Date(status.dateChanged).toISOString().replace(/\.\d{3}Z$/, "Z"),
      reason: status.reason,
    },
  };
}

export class AlarmProvider extends FeedProvider {
  private readonly alarms = new Map<string, Alarm>();

  protected registerActions(host: ProviderHost): void {
    const annotations = [{ key: "feed", value: true }];
    host.registerBuiltin("alarms", "alarm", (p, c) => this.lifecycle("cron", p, c), annotations);
    host.registerBuiltin("alarms", "interval", (p, c) => this.lifecycle("interval", p, c), annotations);
    host.registerBuiltin("alarms", "once", (p, c) => this.lifecycle("once", p, c), annotations);
  }

  private async lifecycle(
    kind: Kind,
    params: Record<string, unknown>,
    ctx: BuiltinContext,
  ): Promise<Record<string, unknown>> {
    const apiHost = { url: this.host.apiHost, ca: this.host.ca };
    if (!params.triggerName) throw new AlarmRefusal("no trigger name parameter was provided");
    const triggerName = feedTriggerName(params.triggerName, ctx.namespace);
    const authKey = String(params.authKey ?? "");
    const verify = async (isDelete: boolean) => {
      const res = await getTrigger(apiHost, authKey, triggerName);
      if (res.status >= 400 && !(isDelete && res.status === 404))
        throw new AlarmRefusal("Trigger authentication request failed.");
    };
    // READ, UPDATE and DELETE name an alarm that must exist, as upstream's provider answers.
    const existing = async (isDelete: boolean) => {
      await verify(isDelete);
      const alarm = this.alarms.get(triggerName);
      if (!alarm) throw new AlarmRefusal(`could not find trigger ${triggerName}`);
      return alarm;
    };
    switch (params.lifecycleEvent) {
      case "CREATE": {
        const alarm = this.validate(kind, params, triggerName, authKey);
        await verify(false);
        if (this.alarms.has(triggerName)) throw new AlarmRefusal(`${triggerName} already exists`);
        this.alarms.set(triggerName, alarm);
        this.schedule(alarm);
        return { status: "success" };
      }
      case "READ":
        return described(triggerName, await existing(false));
      case "UPDATE": {
        const old = await existing(false);
        const next = this.validate(kind, { ...this.toParams(old), ...params }, triggerName, authKey);
        this.unschedule(old);
        this.alarms.set(triggerName, next);
        this.schedule(next);
        return { status: "success" };
      }
      case "DELETE": {
        const alarm = await existing(true);
        this.unschedule(alarm);
        this.alarms.delete(triggerName);
        return { status: "success" };
      }
      default:
        throw new AlarmRefusal("unsupported lifecycleEvent");
    }
  }

  private toParams(a: Alarm): Record<string, unknown> {
    return {
      cron: a.cron,
      timezone: a.timezone,
      minutes: a.minutes,
      date: a.date,
      trigger_payload: a.payload,
      startDate: a.startDate,
      stopDate: a.stopDate,
    };
  }

  private validate(kind: Kind, params: Record<string, unknown>, triggerName: string, authKey: string): Alarm {
    const raw = params.trigger_payload;
    const payload =
      typeof raw === "string"
        ? { payload: raw }
        : raw && typeof raw === "object"
          ? (raw as Record<string, unknown>)
          : {};
    const alarm: Alarm = { kind, triggerName, authKey, payload, status: { active: true, dateChanged: Date.now() } };
    if (kind === "once") {
      if (!params.date) throw new AlarmRefusal("alarms once trigger feed is missing the date parameter");
      const date = parseDate(params.date, "date");
      if (date <= Date.now()) throw new AlarmRefusal(`date parameter '${params.date}' must be in the future`);
      alarm.date = String(params.date);
      return alarm;
    }
    if (kind === "interval") {
      if (!params.minutes) throw new AlarmRefusal("interval trigger feed is missing the minutes parameter");
      const minutes = Number(params.minutes);
      if (!Number.isInteger(minutes)) throw new AlarmRefusal("the minutes parameter must be an integer");
      if (minutes <= 0) throw new AlarmRefusal("the minutes parameter must be an integer greater than zero");
      alarm.minutes = minutes;
      // The real feed starts an interval 30 s after creation unless told otherwise (half a scaled minute here).
      alarm.startDate = params.startDate
        ? parseDate(params.startDate, "startDate")
        : Date.now() + this.settings.alarmMinuteMs / 2;
    } else {
      if (typeof params.cron !== "string" || params.cron === "")
        throw new AlarmRefusal("alarms trigger feed is missing the cron parameter");
      try {
        new Cron(params.cron, {
          timezone: typeof params.timezone === "string" ? params.timezone : undefined,
          paused: true,
        }).stop();
      } catch {
        throw new AlarmRefusal(`cron pattern '${params.cron}' is not valid`);
      }
      alarm.cron = params.cron;
      if (typeof params.timezone === "string") alarm.timezone = params.timezone;
      if (params.startDate) alarm.startDate = parseDate(params.startDate, "startDate");
    }
    if (params.stopDate) {
      alarm.stopDate = parseDate(params.stopDate, "stopDate");
      if (alarm.startDate !== undefined && alarm.stopDate <= alarm.startDate) {
        throw new AlarmRefusal("stopDate parameter must be greater than the startDate");
      }
    }
    return alarm;
  }

  private schedule(alarm: Alarm): void {
    const fire = () => void this.fire(alarm);
    if (alarm.kind === "once") {
      alarm.timer = setTimeout(
        () => {
          fire();
          this.disable(alarm, undefined, "Automatically disabled after firing once");
        },
        Math.max(0, parseDate(alarm.date, "date") - Date.now()),
      );
    } else if (alarm.kind === "interval") {
      const period = alarm.minutes! * this.settings.alarmMinuteMs;
      const tick = () => {
        if (alarm.stopDate !== undefined && Date.now() >= alarm.stopDate) {
          this.disable(alarm, undefined, "Automatically disabled after firing last scheduled interval trigger");
          return;
        }
        fire();
        alarm.timer = setTimeout(tick, period);
      };
      alarm.timer = setTimeout(tick, Math.max(0, alarm.startDate! - Date.now()));
    } else {
      alarm.job = new Cron(
        alarm.cron!,
        {
          timezone: alarm.timezone,
          ...(alarm.startDate ? { startAt: new Date(alarm.startDate) } : {}),
          ...(alarm.stopDate ? { stopAt: new Date(alarm.stopDate) } : {}),
        },
        fire,
      );
    }
  }

  private unschedule(alarm: Alarm): void {
    clearTimeout(alarm.timer);
    alarm.job?.stop();
  }

  private disable(alarm: Alarm, statusCode: number | undefined, message: string): void {
    this.unschedule(alarm);
    alarm.status = {
      active: false,
      dateChanged: Date.now(),
      reason: { kind: "AUTO", ...(statusCode !== undefined ? { statusCode } : {}), message },
    };
  }

  private async fire(alarm: Alarm): Promise<void> {
    const apiHost = { url: this.host.apiHost, ca: this.host.ca };
    for (let retry = 0; alarm.status.active; retry++) {
      let status: number | undefined;
      try {
        status = (await fireTrigger(apiHost, alarm.authKey, alarm.triggerName, alarm.payload)).status;
      } catch (err) {
        this.host.log(`[${alarm.triggerName}] error firing: ${err}`);
      }
      if (status !== undefined && status < 400) return;
      if (status !== undefined && shouldDisable(status)) {
        this.disable(
          alarm,
          status,
          `Trigger automatically disabled: Received a ${status} status code when firing the trigger`,
        );
        return;
      }
      if (retry >= RETRIES) return;
      await sleep(1000 * this.settings.kafkaRetryScale);
    }
  }

  async stop(): Promise<void> {
    for (const alarm of this.alarms.values()) this.unschedule(alarm);
    this.alarms.clear();
  }
}
