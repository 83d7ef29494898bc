// Web action: GET -> the operator's dashboard, one HTML page with its script (Chart.js included) inlined, so it
// needs nothing but the platform. Its data comes from the web action dashboard-data beside it.
import script from "dashboard-app:script";

const STYLE = `
body { font: 13px system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #1d2329; background: #f7f8fa; }
header { display: flex; align-items: baseline; gap: 1rem; } h1 { font-size: 1.3rem; } h2 { font-size: 1rem; margin: 0 0 .4rem; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: .8rem; margin: .8rem 0; }
.row { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: .8rem; } .row > section { margin: 0; }
#fleet { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: .6rem; }
figure { margin: 0; } figcaption { font-size: 11px; color: #4c5661; } .plot { position: relative; height: 150px; }
.chart { position: relative; height: 220px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eef0f2; font-size: 12px; }
tbody tr[data-workorder] { cursor: pointer; } tr.selected { background: #e7f0fb; } .scroll { max-height: 320px; overflow: auto; }
.muted { color: #6b7580; } #status { color: #6b7580; }`;

const BODY = `
<header><h1>Pump maintenance saga</h1><span id="status">loading…</span></header>
<section><h2>Fleet <span class="muted" id="fleet-page"></span> <button id="fleet-prev">‹</button><button id="fleet-next">›</button></h2>
  <div id="fleet"></div></section>
<div class="row">
  <section><h2>Incidents <span class="muted" id="incidents-summary"></span></h2><div class="scroll">
    <table id="incidents"><thead><tr><th>incident</th><th>pump</th><th>site</th><th>problem</th><th>opened</th></tr></thead><tbody></tbody></table></div></section>
  <section><h2>Dead letters <span class="muted" id="deadletters-summary"></span></h2><div class="scroll">
    <table id="deadletters"><thead><tr><th>id</th><th>failed</th><th>step</th><th>reason</th><th>attempts</th><th>message</th></tr></thead><tbody></tbody></table></div></section>
</div>
<div class="row">
  <section><h2>Work orders <span class="muted" id="workorders-summary"></span>
    <select id="status-filter"><option value="">every state</option><option>requested</option><option>open</option>
    <option>part-reserved</option><option>scheduled</option><option>cancelled</option></select></h2><div class="scroll">
    <table id="workorders"><thead><tr><th>work order</th><th>state</th><th>pump</th><th>site</th><th>part</th><th>crew</th><th>cancelled / compensated</th></tr></thead><tbody></tbody></table></div></section>
  <section><h2 id="timeline-title">Select a work order</h2><div class="scroll">
    <table id="timeline"><thead><tr><th>time</th><th></th><th>event</th><th>cause</th><th>activation</th><th>source</th></tr></thead><tbody></tbody></table></div></section>
</div>
<div class="row">
  <section><h2>Stock per part type</h2><div class="chart"><canvas id="stock-chart"></canvas></div></section>
  <section><h2>Crew load per day</h2><div class="chart"><canvas id="crews-chart"></canvas></div></section>
</div>
<div class="row">
  <section><h2>Consumer lag per trigger</h2><div class="chart"><canvas id="lag-chart"></canvas></div></section>
  <section><h2>Throughput</h2><div class="chart"><canvas id="throughput-chart"></canvas></div></section>
</div>`;

// A bundle may hold "</script" in a string: escaped so it cannot close the element early.
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pump maintenance saga</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body>${BODY}<script>${script.replaceAll("</script", "<\\/script")}</script></body></html>`;

export function main() {
  return { statusCode: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: PAGE };
}
