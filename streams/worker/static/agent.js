"use strict";
// The dashboard's "AI agent" tab (SPEC §7): the agent's figures from the reports API, the knowledge gaps
// with drill-down and dismiss. Everything from the API is written with textContent, never parsed as HTML.
(function () {
  const account = decodeURIComponent(location.pathname.split("/").pop());
  const token = new URLSearchParams(location.search).get("token") || "";
  const api = `/api/accounts/${encodeURIComponent(account)}`;
  const LABELS = {
    conversations: "conversations", handled: "handled by the agent", resolved: "resolved by the agent",
    deflections: "deflections", handoffs: "handed off", helpful_share: "helpful feedback",
    avg_resolution_s: "avg resolution time", deflection_rate: "deflection rate",
    team_resolution_rate: "resolved by the team", avg_handoff_to_close_s: "handoff to close",
  };
  // Which conversations a figure of today stands for (the rows of agent-conversations).
  const BEHIND = {conversations: () => true, handled: r => r.is_handled, resolved: r => r.is_resolved,
                  deflections: r => r.is_deflected, handoffs: r => r.is_handed_off,
                  helpful_share: r => r.helpful !== null};
  let day = null;  // the account's local date, from agent-day
  let timer = null;

  function query(params) {
    const p = new URLSearchParams(params || {});
    if (token) p.set("token", token);
    return p.toString();
  }
  async function getJSON(path, params) {
    const response = await fetch(`${api}${path}?${query(params)}`);
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }
  async function report(name, params) {
    const body = await getJSON(`/reports/${name}`, params);
    return body.rows.map(row => Object.fromEntries(body.columns.map((c, i) => [c, row[i]])));
  }
  function show(name, value) {
    if (value === null || value === undefined) return "–";
    if (name.endsWith("_s")) return duration(value);
    if (name.endsWith("_share") || name.endsWith("_rate")) return Math.round(value * 100) + "%";
    return String(value);
  }
  function versus(name, now, before, words) {
    if (now === null || before === null || before === undefined) return ["", "same"];
    const delta = now - before;
    if (Math.abs(delta) < 1e-9) return ["= same as " + words, "same"];
    const size = name.endsWith("_s") ? duration(Math.abs(delta))
      : (name.endsWith("_share") || name.endsWith("_rate")) ? Math.round(Math.abs(delta) * 100) + " pts"
      : String(Math.abs(delta));
    const lowerIsBetter = name === "avg_resolution_s" || name === "handoffs" || name === "avg_handoff_to_close_s";
    const good = (delta > 0) !== lowerIsBetter;
    return [(delta > 0 ? "▲ +" : "▼ −") + size + " vs " + words, good ? "good" : "bad"];
  }
  function figures(id, items, onClick) {
    const box = document.getElementById(id);
    box.replaceChildren();
    for (const {name, value, before, words} of items) {
      const item = el("div", null, "figure");
      item.dataset.agentFigure = name;
      const shown = el("div", show(name, value), "value");
      shown.dataset.value = value === null ? "" : String(value);
      item.append(shown, el("div", LABELS[name] || name, "label"));
      if (words) {
        const [text, tone] = versus(name, value, before, words);
        if (text) item.append(el("div", text, "change " + tone));
      }
      if (onClick) item.addEventListener("click", () => onClick(name));
      box.append(item);
    }
  }
  function table(id, header, lines, onClick) {
    const t = document.getElementById(id);
    t.replaceChildren();
    const head = el("tr");
    header.forEach(h => head.append(el("th", h)));
    t.append(head);
    for (const line of lines) {
      const tr = el("tr", null, onClick ? "clickable" : "");
      for (const cell of line.cells) {
        const td = el("td");
        if (cell instanceof Node) td.append(cell); else td.textContent = cell === null ? "" : String(cell);
        tr.append(td);
      }
      if (onClick) tr.addEventListener("click", () => onClick(line));
      t.append(tr);
    }
  }
  function chart(rows) {
    const box = document.getElementById("agent-chart");
    box.replaceChildren();
    const byDay = {};
    for (const r of rows) {
      const d = byDay[r.period] = byDay[r.period] || {handled: 0, resolved: 0};
      d.handled += r.handled;
      d.resolved += r.resolved;
    }
    const days = Object.keys(byDay).sort();
    const top = Math.max(1, ...days.map(d => byDay[d].handled));
    const left = 26, bottom = 110, height = 95, step = days.length ? 270 / days.length : 9;
    box.append(svg("line", {x1: left, y1: bottom, x2: left + 270, y2: bottom, class: "axis"}),
               svg("line", {x1: left, y1: bottom, x2: left, y2: bottom - height, class: "axis"}),
               svg("text", {x: left - 3, y: bottom - height + 8, "text-anchor": "end"}, top),
               svg("text", {x: left - 3, y: bottom, "text-anchor": "end"}, 0));
    days.forEach((d, i) => {
      for (const [kind, dx] of [["handled", 0], ["resolved", step / 2]]) {
        const size = height * byDay[d][kind] / top;
        const bar = svg("rect", {x: left + i * step + dx, width: Math.max(step / 2 - 1, 1), y: bottom - size,
                                 height: size, class: kind});
        bar.dataset.day = d;
        bar.dataset.kind = kind;
        bar.dataset.value = byDay[d][kind];
        bar.append(svg("title", {}, `${d} ${kind}: ${byDay[d][kind]}`));
        box.append(bar);
      }
      if (i % 7 === 0) box.append(svg("text", {x: left + i * step, y: bottom + 11}, d.slice(5)));
    });
  }

  async function drillFigure(name) {
    const rows = await report("agent-conversations", {from: day, to: day, rows: "true"});
    const chosen = rows.filter(BEHIND[name] || (() => true));
    document.getElementById("agent-drill-title").textContent =
      `${LABELS[name] || name} today: ${chosen.length} conversations`;
    table("agent-list", ["conversation", "channel", "started", "handled", "resolved", "handed off", "ticket"],
          chosen.map(r => ({cells: [r.conversation_id, r.channel, time(r.started_at).toLocaleTimeString(),
                                    r.is_handled ? "yes" : "no", r.is_resolved ? "yes" : "no",
                                    r.is_handed_off ? "yes" : "no", r.ticket_id]})));
  }
  async function dismiss(body) {
    const response = await fetch(`${api}/gaps-dismissals?${query()}`, {
      method: "POST", headers: {"Content-Type": "application/json",
                                ...(token ? {Authorization: "Bearer " + token} : {})},
      body: JSON.stringify(body)});
    if (!response.ok) throw new Error((await response.json()).error || response.statusText);
    hidden.add(body.topic_id || body.question_id);  // until the stored dismissal is read back
    await refresh();
  }
  const hidden = new Set();
  async function drillTopic(topic) {
    const body = await getJSON(`/gaps/${encodeURIComponent(topic.topic_id)}`);
    document.getElementById("agent-drill-title").textContent = `Questions in "${topic.label}"`;
    table("agent-list", ["question", "asked", "conversation", "ticket", ""],
          body.questions.filter(q => !hidden.has(q.question_id)).map(q => {
            const button = el("button", "dismiss", "dismiss");
            button.type = "button";
            button.dataset.question = q.question_id;
            button.addEventListener("click", event => {
              event.stopPropagation();
              dismiss({question_id: q.question_id}).then(() => drillTopic(topic)).catch(status);
            });
            return {cells: [q.question, time(q.at).toLocaleString(), q.conversation_id, q.ticket_id, button]};
          }));
  }
  function status(error) {
    document.getElementById("status").textContent = "error: " + error.message;
  }

  async function refresh() {
    try {
      const [today] = await report("agent-day", {});
      day = today.day;
      const vsYesterday = name => ({name, value: today[name], before: today[name + "_yesterday"],
                                    words: "same time yesterday"});
      figures("agent-day", ["conversations", "handled", "resolved", "deflections", "handoffs", "helpful_share"]
        .map(vsYesterday), drillFigure);
      const [week] = await report("agent-impact", {});
      figures("agent-week", [
        {name: "handled", value: week.handled, before: week.handled_previous, words: "previous week"},
        {name: "resolved", value: week.resolved, before: week.resolved_previous, words: "previous week"},
        {name: "avg_resolution_s", value: week.avg_resolution_s, before: week.avg_resolution_previous_s,
         words: "previous week"},
        {name: "deflection_rate", value: week.deflection_rate, before: week.deflection_rate_previous,
         words: "previous week"},
        {name: "helpful_share", value: week.helpful_share, before: week.helpful_share_previous,
         words: "previous week"}]);
      const range = {from: addDays(day, -29), to: day};
      const [after] = await report("agent-after-handoff", {...range, view: "totals"});
      figures("agent-after", ["handoffs", "team_resolution_rate", "avg_handoff_to_close_s"].map(
        name => ({name, value: after ? after[name] : null})));
      chart(await report("agent-conversations", {...range, freq: "day"}));
      table("agent-team", ["resolved by", "conversations"],
            (await report("agent-vs-team", {...range, view: "totals"})).map(r => ({cells: [r.resolver, r.resolved]})));
      const gaps = await getJSON("/gaps", range);
      table("gap-topics", ["topic", "questions", "last asked", ""], gaps.topics.filter(t => !hidden.has(t.topic_id))
        .map(t => {
          const name = el("span", t.label);
          const cell = el("span");
          cell.append(name);
          if (t.new) cell.append(el("span", "new since dismissed", "badge"));
          const button = el("button", "dismiss", "dismiss");
          button.type = "button";
          button.dataset.topic = t.topic_id;
          button.addEventListener("click", event => {
            event.stopPropagation();
            dismiss({topic_id: t.topic_id}).catch(status);
          });
          return {cells: [cell, t.questions, time(t.last_at).toLocaleString(), button], topic: t};
        }), line => drillTopic(line.topic).catch(status));
      document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (error) {
      status(error);
    }
  }
  function time(iso) {  // ClickHouse times come without an offset: they are UTC
    return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z");
  }
  function addDays(iso, n) {
    const d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function select(agent) {
    document.getElementById("agent-view").hidden = !agent;
    document.getElementById("live-view").hidden = agent;
    document.getElementById("tab-agent").classList.toggle("on", agent);
    document.getElementById("tab-live").classList.toggle("on", !agent);
    clearInterval(timer);
    if (agent) {
      refresh();
      timer = setInterval(refresh, 5000);  // ClickHouse reports: every 5 s is live enough and cheap
    }
    history.replaceState(null, "", agent ? "#agent" : "#");
  }
  document.getElementById("tab-agent").addEventListener("click", () => select(true));
  document.getElementById("tab-live").addEventListener("click", () => select(false));
  if (location.hash === "#agent") select(true);
})();
