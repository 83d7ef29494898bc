/// <reference lib="dom" />
// The dashboard in the browser: every few seconds it asks the data action for each panel (side by side) and
// redraws. Counters for tests and for measuring the refresh cost are kept on window.dashboard.
import type { Chart } from "chart.js";
import { barChart, setBars, setSeries, timeChart } from "./charts.ts";
import { byId, el, fillTable, row } from "./dom.ts";
import { refreshInterval } from "./refresh.ts";

/** ?refresh=<ms>, at least 1 s: anything else (0, a word) is the default, never a tight loop of requests. */
const REFRESH_MS = refreshInterval(new URLSearchParams(location.search).get("refresh"));
const PAGE = 12;
const DATA = new URL("dashboard-data", location.href);

interface Reading {
  timestamp: string;
  temperature: number;
  pressure: number;
  flowRate: number;
  current: number;
  rotation: number;
}
type Json = Record<string, unknown>;

const state = {
  offset: 0,
  pumps: 0,
  status: "",
  selected: new URLSearchParams(location.hash.slice(1)).get("wo") ?? "",
  letters: undefined as number | undefined,
  lag: undefined as { at: number; consumed: Map<string, number> } | undefined,
  throughput: [] as { x: number; y: number }[],
};

const stats = {
  refreshes: 0,
  lastRefreshMs: 0,
  lastBytes: 0,
  errors: [] as string[],
  /** Each panel's last request: milliseconds and bytes. */
  panels: {} as Record<string, { ms: number; bytes: number }>,
  pumpCharts: new Map<string, Chart<"line">>(),
  charts: {} as { stock?: Chart<"bar">; crews?: Chart<"bar">; lag?: Chart<"bar">; throughput?: Chart<"line"> },
};
Object.assign(window, { dashboard: stats });

async function panel<T = Json>(name: string, query: Record<string, string | number> = {}): Promise<T> {
  const url = new URL(DATA);
  url.searchParams.set("panel", name);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
  const started = performance.now();
  const response = await fetch(url);
  const text = await response.text();
  stats.lastBytes += text.length;
  stats.panels[name] = { ms: Math.round(performance.now() - started), bytes: text.length };
  if (!response.ok) throw new Error(`${name}: ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

const time = (iso: string | undefined) => (iso ? iso.replace("T", " ").slice(0, 19) : "");
const ms = (iso: string) => Date.parse(iso);

function renderFleet(data: {
  total: number;
  offset: number;
  pumps: { assetId: string; site?: string; readings: number; history: Reading[] }[];
}) {
  byId("fleet-page").textContent =
    `${data.total === 0 ? 0 : data.offset + 1}–${data.offset + data.pumps.length} of ${data.total} pumps`;
  state.pumps = data.total;
  const grid = byId("fleet");
  const shown = new Set(data.pumps.map((p) => p.assetId));
  for (const [id, chart] of stats.pumpCharts) {
    if (!shown.has(id)) {
      chart.destroy();
      stats.pumpCharts.delete(id);
      grid.querySelector(`[data-pump="${CSS.escape(id)}"]`)?.remove();
    }
  }
  for (const pump of data.pumps) {
    let chart = stats.pumpCharts.get(pump.assetId);
    if (!chart) {
      const canvas = el("canvas", { "data-pump": pump.assetId });
      grid.append(
        el(
          "figure",
          { "data-pump": pump.assetId },
          el("figcaption", {}, pump.assetId),
          el("div", { class: "plot" }, canvas),
        ),
      );
      chart = timeChart(canvas, { y: "°C", y2: "kPa" });
      stats.pumpCharts.set(pump.assetId, chart);
    }
    grid.querySelector(`figure[data-pump="${CSS.escape(pump.assetId)}"] figcaption`)!.textContent =
      `${pump.assetId} · ${pump.site ?? "unregistered"} · ${pump.readings} readings`;
    setSeries(chart, [
      { label: "temperature", points: pump.history.map((r) => ({ x: ms(r.timestamp), y: r.temperature })) },
      { label: "pressure", axis: "y2", points: pump.history.map((r) => ({ x: ms(r.timestamp), y: r.pressure })) },
    ]);
  }
}

function renderIncidents(data: {
  pumps: {
    assetId: string;
    site?: string;
    incidents: number;
    open?: { id: string; problem: string; openedAt: string };
  }[];
}) {
  const open = data.pumps.filter((p) => p.open);
  const total = data.pumps.reduce((sum, p) => sum + p.incidents, 0);
  byId("incidents-summary").textContent = `${open.length} open, ${total} since the start`;
  fillTable(
    "incidents",
    open.map((p) => row([p.open?.id, p.assetId, p.site, p.open?.problem, time(p.open?.openedAt)])),
    "no open incident",
  );
}

type Order = {
  workOrderId: string;
  status: string;
  assetId?: string;
  site?: string;
  partType?: string;
  crewId?: string;
  day?: string;
  cancelReason?: string;
  released?: string[];
  deadline?: string;
};

function renderOrders(data: { orders: Order[]; truncated: boolean }) {
  const orders = [...data.orders].sort((a, b) => (b.deadline ?? "").localeCompare(a.deadline ?? ""));
  byId("workorders-summary").textContent = `${orders.length}${data.truncated ? "+" : ""} work orders`;
  fillTable(
    "workorders",
    orders.map((o) => {
      const tr = row(
        [
          o.workOrderId,
          o.status,
          o.assetId,
          o.site,
          o.partType,
          o.crewId ? `${o.crewId} on ${o.day}` : "",
          [o.cancelReason, ...(o.released ?? []).map((r) => `${r} released`)].filter(Boolean).join(", "),
        ],
        { "data-workorder": o.workOrderId, class: o.workOrderId === state.selected ? "selected" : "" },
      );
      tr.addEventListener("click", () => {
        state.selected = o.workOrderId;
        location.hash = `wo=${encodeURIComponent(o.workOrderId)}`;
        void refresh();
      });
      return tr;
    }),
    "no work order",
  );
}

type Entry = {
  id: string;
  type: string;
  time: string;
  role: string;
  causationid?: string;
  activationid?: string;
  source: string;
};

function renderTimeline(data: { workOrder: Order; timeline: Entry[] } | null) {
  byId("timeline-title").textContent = data
    ? `${data.workOrder.workOrderId}: ${data.workOrder.status}`
    : "Select a work order";
  fillTable(
    "timeline",
    (data?.timeline ?? []).map((e) =>
      row([time(e.time), e.role, e.type, e.causationid ?? "(from outside)", e.activationid ?? "—", e.source], {
        "data-event": e.id,
      }),
    ),
    "",
  );
}

const charts = stats.charts;

function renderStock(data: {
  stock: { partType: string; available: number; consumed: number; reserved: Record<string, number> }[];
}) {
  charts.stock ??= barChart(byId("stock-chart"), true);
  const stock = [...data.stock].sort((a, b) => a.partType.localeCompare(b.partType));
  setBars(
    charts.stock,
    stock.map((s) => s.partType),
    [
      { label: "available", data: stock.map((s) => s.available) },
      { label: "reserved", data: stock.map((s) => Object.keys(s.reserved).length) },
      { label: "consumed", data: stock.map((s) => s.consumed) },
    ],
  );
}

function renderCrews(data: { sites: { site: string; load: Record<string, Record<string, number>> }[] }) {
  charts.crews ??= barChart(byId("crews-chart"), true);
  const days = [
    ...new Set(data.sites.flatMap((s) => Object.values(s.load).flatMap((byDay) => Object.keys(byDay)))),
  ].sort();
  setBars(
    charts.crews,
    days,
    data.sites.map((s) => ({
      label: s.site,
      data: days.map((day) => Object.values(s.load).reduce((sum, byDay) => sum + (byDay[day] ?? 0), 0)),
    })),
  );
}

function renderLetters(data: {
  total: number;
  feedBatches?: number;
  letters?: { id: string; step: string; reason: string; message: string; attempts: number; failedAt: string }[];
}) {
  const feed = data.feedBatches
    ? `; ${data.feedBatches} batches from the lossless feed (npm run deadletters -- feed list)`
    : "";
  byId("deadletters-summary").textContent =
    `${data.total} kept (npm run deadletters -- list | show <id> | replay)${feed}`;
  if (!data.letters) return;
  fillTable(
    "deadletters",
    data.letters.map((l) => row([l.id, time(l.failedAt), l.step, l.reason, l.attempts, l.message])),
    "no dead letter",
  );
}

function renderLag(data: { at: number; triggers: { trigger: string; consumed: number; lag: number }[] }) {
  charts.lag ??= barChart(byId("lag-chart"), false);
  const previous = state.lag;
  const seconds = previous ? (data.at - previous.at) / 1000 : 0;
  const rate = (t: { trigger: string; consumed: number }) =>
    previous && seconds > 0
      ? Math.max(0, (t.consumed - (previous.consumed.get(t.trigger) ?? t.consumed)) / seconds)
      : 0;
  setBars(
    charts.lag,
    data.triggers.map((t) => t.trigger.replace(/^saga-/, "")),
    [
      { label: "lag (records)", data: data.triggers.map((t) => t.lag) },
      { label: "consumed/s", data: data.triggers.map((t) => Math.round(rate(t) * 10) / 10) },
    ],
  );
  if (previous && seconds > 0) {
    state.throughput = [
      ...state.throughput,
      { x: data.at, y: data.triggers.reduce((sum, t) => sum + rate(t), 0) },
    ].slice(-100);
    charts.throughput ??= timeChart(byId("throughput-chart"), { y: "records/s", fromZero: true });
    setSeries(charts.throughput, [{ label: "consumed/s, all triggers", points: state.throughput }]);
  }
  state.lag = { at: data.at, consumed: new Map(data.triggers.map((t) => [t.trigger, t.consumed])) };
}

let running: Promise<void> | undefined;

/** One refresh of every panel; a failed panel shows its error and the others still draw. */
function refresh(): Promise<void> {
  running ??= (async () => {
    const started = performance.now();
    stats.lastBytes = 0;
    const jobs: [string, () => Promise<void>][] = [
      ["fleet", async () => renderFleet(await panel("fleet", { offset: state.offset, limit: PAGE }))],
      ["incidents", async () => renderIncidents(await panel("incidents"))],
      ["workorders", async () => renderOrders(await panel("workorders", { status: state.status }))],
      [
        "timeline",
        async () =>
          renderTimeline(
            state.selected
              ? await panel<{ workOrder: Order; timeline: Entry[] }>("workorder", { id: state.selected }).catch(
                  () => null,
                )
              : null,
          ),
      ],
      ["stock", async () => renderStock(await panel("stock"))],
      ["crews", async () => renderCrews(await panel("crews"))],
      [
        "deadletters",
        async () => {
          const data = await panel<{ total: number; feedBatches?: number }>(
            "deadletters",
            state.letters === undefined ? {} : { known: state.letters },
          );
          renderLetters(data);
          state.letters = data.total;
        },
      ],
      ["lag", async () => renderLag(await panel("lag"))],
    ];
    const results = await Promise.allSettled(jobs.map(([, job]) => job()));
    const errors = results.flatMap((r, i) => (r.status === "rejected" ? [`${jobs[i]?.[0]}: ${String(r.reason)}`] : []));
    stats.errors = errors;
    byId("status").textContent =
      errors.length > 0 ? errors.join("; ") : `updated ${new Date().toISOString().slice(11, 19)} UTC`;
    stats.lastRefreshMs = Math.round(performance.now() - started);
    stats.refreshes += 1;
  })().finally(() => {
    running = undefined;
  });
  return running;
}

byId<HTMLSelectElement>("status-filter").addEventListener("change", (event) => {
  state.status = (event.target as HTMLSelectElement).value;
  void refresh();
});
byId("fleet-prev").addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - PAGE);
  void refresh();
});
byId("fleet-next").addEventListener("click", () => {
  if (state.offset + PAGE < state.pumps) state.offset += PAGE;
  void refresh();
});
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
