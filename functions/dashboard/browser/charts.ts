/// <reference lib="dom" />
// The dashboard's charts on Chart.js: created once, then given new data in place, so a refresh redraws without
// animation or new canvases.
import { Chart, type ChartConfiguration, registerables } from "chart.js";

Chart.register(...registerables);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  axis?: "y" | "y2";
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** A line chart over time (x in epoch ms, shown as UTC clock times), one or two y axes. */
export function timeChart(
  canvas: HTMLCanvasElement,
  axes: { y: string; y2?: string; fromZero?: boolean },
): Chart<"line"> {
  const config: ChartConfiguration<"line", { x: number; y: number }[]> = {
    type: "line",
    data: { datasets: [] },
    options: {
      parsing: false,
      normalized: true,
      elements: { point: { radius: 1.5 }, line: { borderWidth: 1.5 } },
      plugins: { legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
      scales: {
        x: { type: "linear", ticks: { callback: (value) => clock(Number(value)), maxTicksLimit: 4 } },
        y: { title: { display: true, text: axes.y }, ...(axes.fromZero ? { min: 0 } : {}) },
        ...(axes.y2
          ? { y2: { position: "right", title: { display: true, text: axes.y2 }, grid: { display: false } } }
          : {}),
      },
    },
  };
  return new Chart(canvas, config);
}

export function setSeries(chart: Chart<"line">, series: Series[]): void {
  chart.data.datasets = series.map((s) => ({ label: s.label, data: s.points, yAxisID: s.axis ?? "y" }));
  chart.update("none");
}

/** A bar chart by label, datasets stacked or side by side. */
export function barChart(canvas: HTMLCanvasElement, stacked: boolean): Chart<"bar"> {
  return new Chart(canvas, {
    type: "bar",
    data: { labels: [], datasets: [] },
    options: {
      plugins: { legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
      scales: { x: { stacked }, y: { stacked, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

export function setBars(chart: Chart<"bar">, labels: string[], datasets: { label: string; data: number[] }[]): void {
  chart.data.labels = labels;
  chart.data.datasets = datasets;
  chart.update("none");
}
