"use strict";
// The reports page. Everything from the API is written with textContent, never parsed as HTML.
// The chart's numbers are kept in #chart's data-series (the test compares them with the API).
const account = decodeURIComponent(location.pathname.split("/").pop());
const token = new URLSearchParams(location.search).get("token") || "";
const FILTERS = ["team", "rep", "channel", "priority", "pipeline", "category"];
const COLORS = ["#2f6fde", "#e07b39", "#3a9d5d", "#a05bd6", "#c7443a", "#2aa3b8", "#8a7a2e", "#5b6472"];
let CATALOGUE = {};
let plot = null;
let current = null;  // {report, params, columns, rows, x}

const $ = id => document.getElementById(id);
$("account").textContent = account;
$("live-link").href = `/dashboard/${encodeURIComponent(account)}${token ? "?token=" + encodeURIComponent(token) : ""}`;

function periodLabel(iso, freq, to) {
  const d = new Date(iso + "T00:00:00Z");
  if (freq === "total") return `${iso} – ${to || "today"}`;
  if (freq === "week") {
    const t = new Date(d); t.setUTCDate(t.getUTCDate() + 3 - (t.getUTCDay() + 6) % 7);
    const jan4 = new Date(Date.UTC(t.getUTCFullYear(), 0, 4));
    const week = 1 + Math.round(((t - jan4) / 86400000 - 3 + (jan4.getUTCDay() + 6) % 7) / 7);
    return `${t.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
  }
  if (freq === "month") return iso.slice(0, 7);
  if (freq === "quarter") return `${iso.slice(0, 4)}-Q${Math.floor((d.getUTCMonth()) / 3) + 1}`;
  if (freq === "year") return iso.slice(0, 4);
  return iso;
}
function cell(column, value, params) {
  if (value === null || value === undefined) return "–";
  if (column.endsWith("_s")) return duration(value);
  if (column.endsWith("_share") || column === "hit_rate") return Math.round(value * 1000) / 10 + "%";
  if (column === "period") return periodLabel(String(value).slice(0, 10), params.get("freq") || "week", params.get("to"));
  if (column === "group" && value === "") return {rep: "(unassigned)", team: "(no team)"}[params.get("by")] || "(all)";
  return String(value);
}
function api(path, params) {
  const query = new URLSearchParams(params);
  if (token) query.set("token", token);
  return `/api/accounts/${encodeURIComponent(account)}/${path}?${query}`;
}
async function getJson(url) {
  const response = await fetch(url, {headers: token ? {Authorization: "Bearer " + token} : {}});
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function chosen() {
  const report = CATALOGUE[$("report").value];
  const params = new URLSearchParams();
  for (const id of ["from", "to"]) if ($(id).value) params.set(id, $(id).value);
  if (report.periods) {
    params.set("freq", $("freq").value);
    if ($("view").value === "totals") params.set("view", "totals");
  }
  if (report.groups && $("by").value !== "none") {
    params.set("by", $("by").value);
    if ($("groups").value.trim()) params.set("groups", $("groups").value.trim());
  }
  if (report.hours && $("hours").value) params.set("hours", $("hours").value);
  for (const name of FILTERS) if ($("f-" + name).value) params.set(name, $("f-" + name).value.trim());
  return [report, params];
}
function showOptions() {
  const report = CATALOGUE[$("report").value];
  for (const node of document.querySelectorAll("[data-needs]")) node.hidden = !report[node.dataset.needs];
  $("definition").textContent = report.definition;
}

async function run(event) {
  if (event) event.preventDefault();
  const [report, params] = chosen();
  $("error").textContent = "";
  $("status").textContent = "…";
  try {
    const answer = await getJson(api(`reports/${report.name}`, params));
    current = {report, params, columns: answer.columns, rows: answer.rows};
    renderTable();
    renderChart();
    const csv = new URLSearchParams(params); csv.set("rows", "true"); csv.set("format", "csv");
    $("csv").href = api(`reports/${report.name}`, csv);
    $("status").textContent = `${answer.rows.length} row${answer.rows.length === 1 ? "" : "s"}`;
    $("drill").querySelector("thead").replaceChildren();
    $("drill").querySelector("tbody").replaceChildren();
    history.replaceState(null, "", `?${new URLSearchParams([["report", report.name], ...params,
      ...(token ? [["token", token]] : [])])}`);
  } catch (error) {
    $("error").textContent = error.message;
    $("status").textContent = "";
  }
}

function renderTable() {
  const {columns, rows, params, report} = current;
  const head = el("tr");
  for (const c of columns) head.append(el("th", c.replace(/_s$/, "")));
  $("report-table").querySelector("thead").replaceChildren(head);
  const body = [];
  rows.forEach(row => {
    const tr = el("tr");
    columns.forEach((c, i) => tr.append(el("td", cell(c, row[i], params))));
    tr.addEventListener("click", () => {
      const only = {};
      for (const key of report.drill) only[key] = row[columns.indexOf(key)];
      drill(only);
    });
    body.push(tr);
  });
  $("report-table").querySelector("tbody").replaceChildren(...body);
}

// The chart: x is the first drill column (the period, an hour, a rep...), one series per charted column
// (and, unless stacked, per value of the other drill columns, e.g. per group); stacked series are summed
// over those other columns.
function chartData() {
  const {columns, rows, report, params} = current;
  const hours = params.get("hours");
  const measures = report.chart.map(c => hours === "sla" && c.endsWith("_s") && !c.endsWith("_sla_s")
    ? c.replace(/_s$/, "_sla_s") : c).filter(c => columns.includes(c));
  const xKey = report.drill[0];
  const others = report.stacked ? [] : report.drill.slice(1).filter(k => columns.includes(k));
  const xs = [...new Set(rows.map(r => String(r[columns.indexOf(xKey)])))];
  if (xKey === "period" || xKey === "hour") xs.sort((a, b) => xKey === "hour" ? a - b : a < b ? -1 : 1);
  const series = new Map();
  for (const row of rows) {
    const x = xs.indexOf(String(row[columns.indexOf(xKey)]));
    const tag = others.map(k => cell(k, row[columns.indexOf(k)], params)).join(" · ");
    for (const m of measures) {
      const name = [m.replace(/_s$/, ""), tag].filter(Boolean).join(" · ");
      if (!series.has(name)) series.set(name, {measure: m, values: xs.map(() => report.stacked ? 0 : null)});
      const value = row[columns.indexOf(m)];
      const values = series.get(name).values;
      values[x] = report.stacked ? values[x] + (value || 0) : value;
    }
  }
  return {xKey, xs, series: [...series].map(([name, s]) => ({name, measure: s.measure, values: s.values}))};
}

function renderChart() {
  const data = chartData();
  const {params} = current;
  const box = $("chart");
  box.dataset.series = JSON.stringify(data);
  if (plot) { plot.destroy(); plot = null; }
  box.replaceChildren();
  if (!data.xs.length) { box.append(el("p", "No rows in this range.")); return; }
  const isDuration = data.series.some(s => s.measure.endsWith("_s"));
  const bars = current.report.stacked || !current.report.periods || data.xs.length < 3;
  const xLabels = data.xs.map(x => data.xKey === "period" ? cell("period", x, params)
    : data.xKey === "hour" ? String(x).padStart(2, "0") + ":00" : x);
  let plotted = data.series.map(s => s.values);
  if (current.report.stacked) {  // cumulative, drawn top series first so each bar shows its own part
    let running = data.xs.map(() => 0);
    plotted = data.series.map(s => (running = running.map((v, i) => v + (s.values[i] || 0))));
  }
  const width = Math.max(300, box.clientWidth || 800);
  const options = {
    width, height: 300,
    scales: {x: {time: false, range: () => [-0.5, data.xs.length - 0.5]}},  // room for the first and last bar
    axes: [
      {values: (u, ticks) => ticks.map(t => Number.isInteger(t) ? (xLabels[t] || "") : "")},
      {values: (u, ticks) => ticks.map(t => isDuration ? duration(t) : String(t)), size: 70},
    ],
    series: [{label: data.xKey, value: (u, v) => v === null ? "" : xLabels[v] ?? ""},
      ...data.series.map((s, i) => ({
        label: s.name, stroke: COLORS[i % COLORS.length], fill: bars ? COLORS[i % COLORS.length] + "cc" : undefined,
        width: bars ? 0 : 2, points: {show: !bars},
        paths: bars ? uPlot.paths.bars({size: [0.6, 60]}) : undefined,
        value: (u, v, si, idx) => idx === null ? "" : (s.values[idx] === null ? "–"
          : s.measure.endsWith("_s") ? duration(s.values[idx]) : String(s.values[idx])),
      }))],
    cursor: {drag: {x: false, y: false}},
  };
  const order = current.report.stacked ? [...plotted.keys()].reverse() : [...plotted.keys()];
  if (current.report.stacked) {
    options.series = [options.series[0], ...order.map(i => options.series[i + 1])];
  }
  plot = new uPlot(options, [data.xs.map((_, i) => i), ...order.map(i => plotted[i])], box);
  plot.over.addEventListener("click", () => {
    const idx = plot.cursor.idx;
    if (idx === null || idx === undefined) return;
    drill({[data.xKey]: data.xs[idx]});
  });
}

async function drill(only) {
  const {report, params} = current;
  const query = new URLSearchParams(params);
  query.set("rows", "true");
  for (const [key, value] of Object.entries(only)) query.set("only." + key, String(value));
  $("drill-title").textContent = "Loading…";
  try {
    const answer = await getJson(api(`reports/${report.name}`, query));
    const labels = Object.entries(only).map(([k, v]) => `${k} ${cell(k, v, params)}`).join(", ");
    $("drill-title").textContent = `${answer.rows.length} row${answer.rows.length === 1 ? "" : "s"} behind ${labels}`;
    $("drill").dataset.only = JSON.stringify(only);
    const head = el("tr");
    for (const c of answer.columns) head.append(el("th", c));
    $("drill").querySelector("thead").replaceChildren(head);
    $("drill").querySelector("tbody").replaceChildren(...answer.rows.map(row => {
      const tr = el("tr");
      answer.columns.forEach((c, i) => tr.append(el("td", c.endsWith("_s") && row[i] !== null ? duration(row[i])
        : row[i] === null ? "–" : row[i])));
      return tr;
    }));
  } catch (error) {
    $("drill-title").textContent = error.message;
  }
}

async function start() {
  try {
    const answer = await getJson(api("reports", {}));
    for (const report of answer.reports) {
      CATALOGUE[report.name] = report;
      const option = el("option", report.name);
      option.value = report.name;
      option.title = report.definition;
      $("report").append(option);
    }
  } catch (error) {
    $("error").textContent = error.message;
    return;
  }
  const given = new URLSearchParams(location.search);
  if (given.get("report") in CATALOGUE) $("report").value = given.get("report");
  for (const id of ["from", "to", "freq", "view", "by", "groups", "hours"]) if (given.get(id)) $(id).value = given.get(id);
  for (const name of FILTERS) if (given.get(name)) $("f-" + name).value = given.get(name);
  showOptions();
  $("report").addEventListener("change", () => { showOptions(); run(); });
  $("controls").addEventListener("submit", run);
  await run();
  document.body.dataset.ready = "true";
}
start();
