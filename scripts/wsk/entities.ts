// wsk trigger …, rule …, package …, namespace list and property get.

import { UsageError } from "../cli.ts";
import type { Context } from "./actions.ts";
import { listPage, needName, parseVerbArgs } from "./args.ts";
import type { Target } from "./credentials.ts";
import { fullName, list } from "./format.ts";
import { deleteNamed, getNamed } from "./named-verbs.ts";

const LIST_OPTIONS = { limit: { type: "string", short: "l" }, skip: { type: "string", short: "s" } } as const;

const shared = (entity: { publish?: boolean }) => (entity.publish ? "shared" : "private");

const keyValues = (record: Record<string, unknown>) => Object.entries(record).map(([key, value]) => ({ key, value }));

export async function trigger(ctx: Context, verb: string, argv: string[]): Promise<number> {
  const { positionals, values, params, annotations } = parseVerbArgs(argv, {
    ...LIST_OPTIONS,
    feed: { type: "string", short: "f" },
  });
  const { ow, out } = ctx;
  switch (verb) {
    case "list":
      list(
        out,
        "triggers",
        (await ow.triggers.list(listPage(values))).map((t) => [fullName(t), shared(t)]),
      );
      return 0;
    case "get":
      return getNamed(out, "trigger", positionals, (q) => ow.triggers.get(q));
    case "create": {
      const name = needName(positionals, "wsk trigger create NAME [--feed FEED] [-p KEY VALUE]");
      if (values.feed) {
        // As wsk does: the trigger carries the feed annotation, and the feed action gets the parameters.
        await ow.triggers.create({
          name,
          trigger: { annotations: keyValues({ ...annotations, feed: values.feed }) } as never,
        });
        try {
          await ow.feeds.create({ name: values.feed, trigger: name, params });
        } catch (err) {
          await ow.triggers.delete({ name }).catch(() => undefined);
          throw err;
        }
      } else {
        await ow.triggers.create({
          name,
          trigger: { parameters: keyValues(params), annotations: keyValues(annotations) } as never,
        });
      }
      out(`ok: created trigger ${name}`);
      return 0;
    }
    case "delete": {
      const name = needName(positionals, "wsk trigger delete NAME");
      const got = (await ow.triggers.get({ name })) as { annotations?: { key: string; value: unknown }[] };
      const feed = got.annotations?.find((a) => a.key === "feed")?.value;
      if (typeof feed === "string") await ow.feeds.delete({ name: feed, trigger: name });
      await ow.triggers.delete({ name });
      out(`ok: deleted trigger ${name}`);
      return 0;
    }
    case "fire": {
      const name = needName(positionals, "wsk trigger fire NAME [-p KEY VALUE]");
      const fired = (await ow.triggers.invoke({ name, params })) as { activationId?: string };
      // 204: no active rule, so nothing ran and no activation was recorded.
      out(
        fired?.activationId
          ? `ok: triggered /_/${name} with id ${fired.activationId}`
          : `ok: triggered /_/${name}, but no rule is active`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown verb: wsk trigger list|get|create|delete|fire, not ${verb}`);
  }
}

export async function rule(ctx: Context, verb: string, argv: string[]): Promise<number> {
  const { positionals, values } = parseVerbArgs(argv, LIST_OPTIONS);
  const { ow, out } = ctx;
  switch (verb) {
    case "list":
      list(
        out,
        "rules",
        (await ow.rules.list(listPage(values))).map((r) => [
          fullName(r),
          `${shared(r)} ${(r as { status?: string }).status ?? ""}`,
        ]),
      );
      return 0;
    case "get":
      return getNamed(out, "rule", positionals, (q) => ow.rules.get(q));
    case "create": {
      const [name, triggerName, actionName] = positionals;
      if (!name || !triggerName || !actionName) throw new UsageError("wsk rule create NAME TRIGGER ACTION");
      await ow.rules.create({ name, trigger: triggerName, action: actionName });
      out(`ok: created rule ${name}`);
      return 0;
    }
    case "delete":
      return deleteNamed(out, "rule", positionals, (q) => ow.rules.delete(q));
    case "enable":
    case "disable": {
      const name = needName(positionals, `wsk rule ${verb} NAME`);
      await (verb === "enable" ? ow.rules.enable({ name }) : ow.rules.disable({ name }));
      out(`ok: ${verb}d rule ${name}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown verb: wsk rule list|get|create|delete|enable|disable, not ${verb}`);
  }
}

export async function pkg(ctx: Context, verb: string, argv: string[]): Promise<number> {
  const { positionals, values, params, annotations } = parseVerbArgs(argv, LIST_OPTIONS);
  const { ow, out } = ctx;
  switch (verb) {
    case "list":
      list(
        out,
        "packages",
        (
          await ow.packages.list({
            ...listPage(values),
            ...(positionals[0] ? { namespace: positionals[0].replace(/^\//, "") } : {}),
          })
        ).map((p) => [fullName(p), shared(p)]),
      );
      return 0;
    case "get":
      return getNamed(out, "package", positionals, (q) => ow.packages.get(q));
    case "bind": {
      const [source, name] = positionals;
      if (!source || !name) throw new UsageError("wsk package bind /NAMESPACE/PACKAGE NAME [-p KEY VALUE]");
      const [namespace, packageName] = source.replace(/^\//, "").split("/");
      if (!namespace || !packageName)
        throw new UsageError(`bind to a package by its full name, /namespace/package: ${source}`);
      await ow.packages.create({
        name,
        package: {
          binding: { namespace, name: packageName },
          parameters: keyValues(params),
          annotations: keyValues(annotations),
        } as never,
      });
      out(`ok: created binding ${name}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown verb: wsk package list|get|bind, not ${verb}`);
  }
}

export async function namespace(ctx: Context, verb: string, argv: string[]): Promise<number> {
  parseVerbArgs(argv, {});
  if (verb !== "list") throw new UsageError(`unknown verb: wsk namespace list, not ${verb}`);
  ctx.out("namespaces");
  for (const name of await ctx.ow.namespaces.list()) ctx.out(name);
  return 0;
}

/** `wsk property get [--apihost] [--auth] [--namespace]`: the target. The key is shown only when asked for. */
export function property(ctx: Context, verb: string, argv: string[], target: Target): number {
  // Here --apihost and --auth ask for a setting: flags without a value.
  const { values } = parseVerbArgs(argv, {
    apihost: { type: "boolean" },
    auth: { type: "boolean", short: "u" },
    namespace: { type: "boolean" },
  });
  if (verb !== "get") throw new UsageError(`unknown verb: wsk property get, not ${verb}`);
  const all = !values.apihost && !values.auth && !values.namespace;
  if (all || values.apihost) ctx.out(`whisk API host\t\t${target.apihost}`);
  if (values.auth) ctx.out(`whisk auth\t\t${target.auth}`);
  else if (all) ctx.out("whisk auth\t\t(set: wsk property get --auth shows it)");
  if (all || values.namespace) ctx.out(`whisk namespace\t\t${target.namespace}`);
  return 0;
}
