// Web action: GET ?panel=<name> -> one panel of the dashboard as JSON. Each panel is its own request, so a refresh
// costs what the page shows: a page of pumps, not the fleet; the dead letters' records only when their count moved.
//   fleet      ?offset&limit  pumps with their bounded reading histories, and how many there are
//   incidents                 every pump's open incident and count
//   workorders ?status        work orders (their latest commit's projection), at most 500
//   workorder  ?id            one work order and its timeline
//   stock, crews              parts per type; technicians' load per day
//   deadletters ?known        how many letters are kept; the newest 50 when that differs from `known`; how many
//                             batches the lossless feed dead-lettered
//   lag                       per trigger: records consumed and not yet consumed
import { groupLags } from "../../lib/kafka/lag.ts";
import { readRange } from "../../lib/kafka/read-range.ts";
import { findStreamHeads, readEntityPage, readEntityStates } from "../../lib/step/index.ts";
import { clientsFor, parseDeadLetter } from "../../lib/step/tools.ts";
import type { Pump } from "../assets/registry.ts";
import type { Roster } from "../crews/roster.ts";
import type { Watch } from "../monitoring/detection.ts";
import type { Stock } from "../parts/stock.ts";
import { DATABASE, TOPIC } from "../topology.ts";
import { answering, json, storeFor, type WebAnswer } from "../web.ts";
import { readWorkOrder } from "../workorders/view.ts";

type Params = Record<string, unknown>;

const LETTERS_SHOWN = 50;
const MAX_PUMPS_PER_PAGE = 48;
const MAX_WORK_ORDERS = 500;

const count = (value: unknown, fallback: number, max: number) => {
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : fallback;
};

async function fleet(params: Params) {
  const page = { skip: count(params.offset, 0, 1e6), limit: count(params.limit, 12, MAX_PUMPS_PER_PAGE) };
  const { total, states } = await readEntityPage<Pump>(storeFor(params), DATABASE.assets, page);
  const pumps = states.map(({ assetId, registration, readings, history }) => ({
    assetId,
    site: registration?.site,
    nominal: registration?.nominal,
    readings,
    history: history ?? [],
  }));
  return { total, offset: page.skip, pumps };
}

async function incidents(params: Params) {
  const watches = await readEntityStates<Watch>(storeFor(params), DATABASE.monitoring);
  return {
    pumps: watches.map(({ assetId, site, incident, incidents, readings }) => ({
      assetId,
      site,
      incidents,
      readings,
      open: incident ? { id: incident.id, problem: incident.problem, openedAt: incident.openedAt } : undefined,
    })),
  };
}

async function workorders(params: Params) {
  const status = typeof params.status === "string" && params.status !== "" ? params.status : undefined;
  const heads = await findStreamHeads(
    storeFor(params),
    DATABASE.workorders,
    status ? { "view.status": status } : {},
    MAX_WORK_ORDERS,
  );
  const orders = heads.map((head) => ({ workOrderId: head.stream, commits: head.seq, ...head.view }));
  return { orders, truncated: heads.length >= MAX_WORK_ORDERS };
}

async function deadLetters(params: Params) {
  const { kafka } = clientsFor(params);
  const admin = kafka.admin();
  await admin.connect();
  const kept = (offsets: { high: string; low: string }[]) =>
    offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const [partitions, feedBatches] = await Promise.all([
    admin.fetchTopicOffsets(TOPIC.deadLetter),
    // The lossless feed's letters: whole batches, listed and replayed with `npm run deadletters -- feed`.
    admin.fetchTopicOffsets(TOPIC.feedDeadLetter).then(kept),
  ]).finally(() => admin.disconnect());
  const total = kept(partitions);
  if (String(total) === String(params.known ?? "")) return { total, feedBatches };
  const letters = [];
  for (const { partition, low, high } of partitions) {
    const from = Math.max(Number(low), Number(high) - LETTERS_SHOWN);
    if (from >= Number(high)) continue;
    const { records } = await readRange(kafka, TOPIC.deadLetter, partition, from, Number(high) - 1);
    for (const record of records) {
      const letter = parseDeadLetter(record.value?.toString("utf8"));
      if (letter) {
        const { step, reason, message, attempts, failedAt } = letter;
        letters.push({ id: `${partition}:${record.offset}`, step, reason, message, attempts, failedAt });
      }
    }
  }
  letters.sort((a, b) => b.failedAt.localeCompare(a.failedAt));
  return { total, feedBatches, letters: letters.slice(0, LETTERS_SHOWN) };
}

async function lag(params: Params) {
  const admin = clientsFor(params).kafka.admin();
  await admin.connect();
  try {
    // The feeds' consumer groups are the triggers' /namespace/name.
    const prefix = `/${process.env.__OW_NAMESPACE ?? "guest"}/saga-`;
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    const lags = await groupLags(admin, groups.sort());
    return { at: Date.now(), triggers: lags.map(({ group, ...rest }) => ({ trigger: group.split("/")[2], ...rest })) };
  } finally {
    await admin.disconnect();
  }
}

const PANELS: Record<string, (params: Params) => Promise<unknown>> = {
  fleet,
  incidents,
  workorders,
  workorder: async (params) => {
    const id = typeof params.id === "string" ? params.id : "";
    return id ? ((await readWorkOrder(params, id)) ?? null) : null;
  },
  stock: async (params) => ({ stock: await readEntityStates<Stock>(storeFor(params), DATABASE.parts) }),
  crews: async (params) => ({ sites: await readEntityStates<Roster>(storeFor(params), DATABASE.crews) }),
  deadletters: deadLetters,
  lag,
};

export function main(params: Params): Promise<WebAnswer> {
  return answering(async () => {
    const name = typeof params.panel === "string" ? params.panel : "";
    const panel = Object.hasOwn(PANELS, name) ? PANELS[name] : undefined;
    if (!panel) return json(400, { error: `give a panel: ?panel=${Object.keys(PANELS).join("|")}` });
    const body = await panel(params);
    return body === null ? json(404, { error: "not found" }) : json(200, body);
  });
}
