// What the dashboard shows in Chromium on a running system, next to what the store holds: the saga's e2e test
// compares the two. Also the page's cost: load time, and the time and bytes of a refresh.
import type { Pump } from "../../functions/assets/registry.ts";
import { DATABASE } from "../../functions/topology.ts";
import { timelineOf } from "../../functions/workorders/view.ts";
import { findStreamHeads, readEntityPage, readStreams } from "../../lib/step/index.ts";
import type { Cloudant } from "../../lib/store/client.ts";
import { launchChromium, watchedPage } from "../../scripts/chromium.ts";

type Point = { x: number; y: number };

declare global {
  interface Window {
    dashboard: {
      refreshes: number;
      lastRefreshMs: number;
      lastBytes: number;
      errors: string[];
      pumpCharts: Map<string, { data: { datasets: { label?: string; data: unknown[] }[] } }>;
      charts: Record<"stock" | "crews" | "lag", { data: { labels?: unknown[] } } | undefined>;
    };
  }
}

export interface DashboardSeen {
  errors: string[];
  loadMs: number;
  refresh: { ms: number; bytes: number }[];
  pump: { id: string; stored: Point[]; charted: Point[] };
  order: { id: string; stored: string[]; shown: string[]; activations: string[] };
  cancelled: { stored: number; shownStates: string[] };
  stockParts: number;
  crewDays: number;
  lagTriggers: string[];
  letters: string;
}

export async function seeDashboard(apiHost: string, cloudant: Cloudant, screenshot?: string): Promise<DashboardSeen> {
  const [firstPump] = (await readEntityPage<Pump>(cloudant, DATABASE.assets, { skip: 0, limit: 1 })).states;
  if (!firstPump) throw new Error("no pump in the store: the saga did not run");
  const cancelledHeads = await findStreamHeads(cloudant, DATABASE.workorders, { "view.status": "cancelled" }, 500);
  // The order to follow: a cancelled one whose compensation came back, else any cancelled one.
  const compensated = cancelledHeads.find((head) => (head.view?.released as unknown[] | undefined)?.length);
  const orderId = (compensated ?? cancelledHeads[0])?.stream;
  if (!orderId) throw new Error("no cancelled work order in the store");
  const stored = timelineOf((await readStreams(cloudant, DATABASE.workorders, [orderId])).get(orderId) ?? []);

  const browser = await launchChromium();
  try {
    const { page, errors } = await watchedPage(browser);
    const started = Date.now();
    await page.goto(`${apiHost}/api/v1/web/guest/saga/dashboard?refresh=1000`, { waitUntil: "load" });
    await page.waitForFunction(() => window.dashboard?.refreshes >= 1, { timeout: 60_000 });
    const loadMs = Date.now() - started;
    // The lag panel needs two looks to give a throughput.
    await page.waitForFunction(() => window.dashboard.refreshes >= 3, { timeout: 60_000 });
    const refresh: { ms: number; bytes: number }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const before = await page.evaluate(() => window.dashboard.refreshes);
      await page.waitForFunction((n) => window.dashboard.refreshes > n, { timeout: 60_000 }, before);
      refresh.push(
        await page.evaluate(() => ({ ms: window.dashboard.lastRefreshMs, bytes: window.dashboard.lastBytes })),
      );
    }
    const charted = await page.evaluate(
      (id) =>
        (window.dashboard.pumpCharts.get(id)?.data.datasets.find((d) => d.label === "temperature")?.data ??
          []) as Point[],
      firstPump.assetId,
    );

    // Clicked from inside the page, in one go: a refresh may replace the row between a lookup and a click.
    await page.waitForSelector(`tr[data-workorder="${orderId}"]`, { timeout: 30_000 });
    await page.evaluate((id) => document.querySelector<HTMLElement>(`tr[data-workorder="${id}"]`)?.click(), orderId);
    await page.waitForFunction(
      (id, n) =>
        document.getElementById("timeline-title")?.textContent?.startsWith(id) &&
        document.querySelectorAll("#timeline tbody tr[data-event]").length === n,
      { timeout: 30_000 },
      orderId,
      stored.length,
    );
    const rows = await page.$$eval("#timeline tbody tr[data-event]", (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? "")),
    );
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

    await page.select("#status-filter", "cancelled");
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll("#workorders tbody tr[data-workorder] td:nth-child(2)")).every(
          (td) => td.textContent === "cancelled",
        ),
      { timeout: 30_000 },
    );
    const before = await page.evaluate(() => window.dashboard.refreshes);
    await page.waitForFunction((n) => window.dashboard.refreshes > n, { timeout: 60_000 }, before);
    const shownStates = await page.$$eval("#workorders tbody tr[data-workorder] td:nth-child(2)", (tds) =>
      tds.map((td) => td.textContent ?? ""),
    );
    const charts = await page.evaluate(() => {
      const { stock, crews, lag } = window.dashboard.charts;
      return {
        stockParts: stock?.data.labels?.length ?? 0,
        crewDays: crews?.data.labels?.length ?? 0,
        lagTriggers: (lag?.data.labels ?? []).map(String),
      };
    });
    return {
      errors: [...errors, ...(await page.evaluate(() => window.dashboard.errors))],
      loadMs,
      refresh,
      pump: {
        id: firstPump.assetId,
        stored: firstPump.history.map((r) => ({ x: Date.parse(r.timestamp), y: r.temperature })),
        charted,
      },
      order: {
        id: orderId,
        stored: stored.map((e) => `${e.role} ${e.type}`),
        shown: rows.map((cells) => `${cells[1]} ${cells[2]}`),
        activations: rows.map((cells) => cells[4] ?? ""),
      },
      cancelled: { stored: cancelledHeads.length, shownStates },
      ...charts,
      letters: await page.$eval("#deadletters-summary", (span) => span.textContent ?? ""),
    };
  } finally {
    await browser.close();
  }
}
