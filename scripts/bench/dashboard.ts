// npm run bench -- dashboard [URL] [--screenshot FILE]: what the dashboard costs on a running system (npm start in
// another terminal, or the URL of its page): in Chromium, the time until the page is drawn with data, then each
// refresh's time and bytes, per panel; and, side by side, each panel's data asked for directly, without the browser.
// --screenshot: the page as drawn after the refreshes, with the first cancelled work order's timeline open (the
// README's picture is taken so, while `npm start` runs its fleet).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { launchChromium, watchedPage } from "../chromium.ts";
import { stackDir } from "../stack/paths.ts";
import { fixed, summarizeLatencies } from "./measure.ts";

const REFRESHES = Number(process.env.BENCH_DASHBOARD_REFRESHES ?? 10);
const PANELS = ["fleet", "incidents", "workorders", "stock", "crews", "deadletters", "lag"];

type Stats = {
  refreshes: number;
  lastRefreshMs: number;
  lastBytes: number;
  errors: string[];
  panels: Record<string, { ms: number; bytes: number }>;
};

function pageUrl(given: string | undefined): string {
  if (given) return given;
  try {
    const host = /^APIHOST=(.*)$/m.exec(readFileSync(join(stackDir, "wskprops"), "utf8"))?.[1]?.trim();
    if (host) return `${host}/api/v1/web/guest/saga/dashboard`;
  } catch {}
  throw new Error("no running system: start one with npm start (in another terminal), or give the dashboard's URL");
}

export default async function main(args: string[]): Promise<void> {
  const at = args.indexOf("--screenshot");
  const screenshot = at >= 0 ? args[at + 1] : undefined;
  if (at >= 0 && !screenshot) throw new Error("--screenshot needs a file: --screenshot docs/dashboard.png");
  const url = pageUrl(args.find((arg, i) => !arg.startsWith("--") && (at < 0 || i !== at + 1)));
  const dataUrl = url.replace(/\/dashboard(\?.*)?$/, "/dashboard-data");
  const probe = await fetch(url).catch(() => undefined);
  if (!probe?.ok) throw new Error(`the dashboard does not answer at ${url}: is npm start still running?`);

  const browser = await launchChromium();
  const perPanel = new Map<string, { ms: number[]; bytes: number }>();
  const refreshes: { ms: number; bytes: number }[] = [];
  let loadMs = 0;
  let errors: string[] = [];
  try {
    const watched = await watchedPage(browser);
    const { page } = watched;
    const started = Date.now();
    await page.goto(`${url}?refresh=1000`, { waitUntil: "load" });
    await page.waitForFunction(() => ((window as unknown as { dashboard?: Stats }).dashboard?.refreshes ?? 0) >= 1, {
      timeout: 60_000,
    });
    loadMs = Date.now() - started;
    for (let i = 0; i < REFRESHES; i += 1) {
      const before = await page.evaluate(() => (window as unknown as { dashboard: Stats }).dashboard.refreshes);
      await page.waitForFunction(
        (n) => (window as unknown as { dashboard: Stats }).dashboard.refreshes > n,
        { timeout: 60_000 },
        before,
      );
      // Only the counters: the page's object also holds the charts, which do not cross to Node.
      const stats = await page.evaluate((): Stats => {
        const { refreshes, lastRefreshMs, lastBytes, errors, panels } = (window as unknown as { dashboard: Stats })
          .dashboard;
        return { refreshes, lastRefreshMs, lastBytes, errors, panels };
      });
      refreshes.push({ ms: stats.lastRefreshMs, bytes: stats.lastBytes });
      for (const [name, { ms, bytes }] of Object.entries(stats.panels)) {
        const entry = perPanel.get(name) ?? { ms: [], bytes };
        entry.ms.push(ms);
        entry.bytes = bytes;
        perPanel.set(name, entry);
      }
      errors = stats.errors;
    }
    errors = [...watched.errors, ...errors];
    if (screenshot) {
      await page.select("#status-filter", "cancelled").catch(() => undefined);
      await page.evaluate(() => document.querySelector<HTMLElement>("tr[data-workorder]")?.click());
      await page.waitForFunction(() => document.querySelectorAll("#timeline tbody tr[data-event]").length > 0, {
        timeout: 30_000,
      });
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`screenshot: ${screenshot}`);
    }
  } finally {
    await browser.close();
  }

  const direct = new Map<string, number[]>();
  for (let i = 0; i < REFRESHES; i += 1) {
    for (const name of PANELS) {
      const t0 = performance.now();
      const response = await fetch(`${dataUrl}?panel=${name}`);
      await response.arrayBuffer();
      direct.set(name, [...(direct.get(name) ?? []), performance.now() - t0]);
    }
  }

  const total = summarizeLatencies(refreshes.map((r) => r.ms));
  console.log(`\nThe dashboard at ${url}, ${REFRESHES} refreshes:\n`);
  console.log(`page loaded and drawn with data: ${loadMs} ms`);
  console.log(
    `a refresh (every panel side by side): p50 ${fixed(total.p50, 0)} ms, p99 ${fixed(total.p99, 0)} ms, ${fixed((refreshes.at(-1)?.bytes ?? 0) / 1024)} KiB`,
  );
  console.log("\n| panel | in the page p50 ms | asked directly p50 ms | page / direct | KiB |");
  console.log("|---|---:|---:|---:|---:|");
  for (const name of PANELS) {
    const inPage = summarizeLatencies(perPanel.get(name)?.ms ?? []).p50;
    const alone = summarizeLatencies(direct.get(name) ?? []).p50;
    console.log(
      `| ${name} | ${fixed(inPage, 0)} | ${fixed(alone, 0)} | ${fixed(inPage / alone, 2)} | ${fixed((perPanel.get(name)?.bytes ?? 0) / 1024)} |`,
    );
  }
  if (errors.length > 0) console.log(`\nerrors the page reported: ${errors.join("; ")}`);
}
