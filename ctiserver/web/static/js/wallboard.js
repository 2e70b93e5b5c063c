// Supervisor wallboard: per queue waiting / longest wait / SL today and last 15 min / ASA / abandon %, agents by
// state with time in state, the calls now, the dialler's campaigns (campaigns.js), and SL + volume by interval
// today. Live: any event refreshes.
import { api, list } from "./api.js";
import { fetchCampaigns, initCampaigns, renderCampaigns } from "./campaigns.js";
import { barChart, lineChart } from "./charts.js";
import { duration, percent, t } from "./i18n.js";
import { Live } from "./live.js";
import { el, liveBadge, startPage } from "./shell.js";

const $ = (id) => document.getElementById(id);
const STATES = ["ready", "ringing", "on_call", "wrap_up", "not_ready", "reserved", "logged_out"];
let agents = [];
let agentKpis = {};  // agent id → its live KPIs today (GET /kpi/agents): calls handled, occupancy
let calls = [];
let timer = null;


// live events trigger a refresh at most once a second (a busy centre sends hundreds of events per second)
function soon() {
  if (timer) return;
  timer = setTimeout(() => { timer = null; refresh(); }, 1000);
}

const num = (...xs) => xs.find((x) => x !== undefined && x !== null);
const agentId = (a) => String(a.id ?? a.agent ?? a.agent_id ?? "");

let asked = 0;  // refreshes overlap (live events, the 5-s timer): an older answer landing late is dropped
let shown = 0;
async function refresh() {
  const mine = ++asked;
  const [q, a, c, d, k] = await Promise.all([
    api.get("/queues").catch(() => null), api.get("/agents").catch(() => null), api.get("/calls").catch(() => null),
    fetchCampaigns(), api.get("/kpi/agents").catch(() => null),
  ]);
  if (mine < shown) return;
  shown = mine;
  if (q) renderQueues(list(q, "queues"));
  if (k) agentKpis = Object.fromEntries(list(k, "agents").map((x) => [String(x.agent), (x.windows || {}).today || {}]));
  if (a) { agents = list(a, "agents"); renderAgents(); }
  if (c) { calls = list(c, "calls"); renderCalls(); }
  renderCampaigns(d);
}

function tile(key, value, cls = "") {
  return el("div", { class: `tile ${cls}`, "data-k": key }, el("div", { class: "v" }, value), el("div", { class: "k" }, t(key)));
}

function renderQueues(queues) {
  $("queues").replaceChildren(...queues.map((q) => {
    const name = q.name || q.queue || q.id;
    const w = q.windows || {};
    const today = w.today || {};
    const last15 = w["15m"] || {};
    const waiting = num(q.waiting, q.calls_waiting, 0);
    const longest = num(q.longest_wait, q.longest_wait_seconds, 0);
    const sl = num(today.service_level, q.sl_today, q.service_level);
    const sl15 = num(last15.service_level, q.sl_15m);
    const target = num(q.sl_target, 0.8);
    const slClass = (v) => (v === undefined || v === null ? "" : (v <= 1 ? v : v / 100) >= target ? "good" : "bad");
    return el("section", { class: "card queue", "data-queue": name },
      el("h2", {}, name),
      el("div", { class: "tiles" },
        tile("wb.waiting", waiting, waiting > 0 ? "warn" : ""),
        tile("wb.longest", duration(longest), longest > 60 ? "bad" : ""),
        tile("wb.slToday", percent(sl), slClass(sl)),
        tile("wb.sl15", percent(sl15), slClass(sl15)),
        tile("wb.asa", duration(num(today.asa, q.asa, 0))),
        tile("wb.abandon", percent(num(today.abandon_rate, q.abandon_rate))),
        tile("wb.callbacks", num(q.callbacks_owed, 0), num(q.callbacks_owed, 0) > 0 ? "warn" : ""),
      ),
      el("div", { class: "row muted" }, `${t("wb.offered")}: ${num(today.offered, 0)} · ${t("wb.answered")}: ${num(today.answered, 0)} · ${t("wb.abandoned")}: ${num(today.abandoned, 0)}`));
  }));
}

// what the PBX says of a logged-in agent's phone: offline (unregistered: no call can reach it), or on a call the
// ACD did not give it (the agent dialled out from the handset) — either way the queues offer it nothing
function phoneNote(a) {
  if (a.state === "logged_out") return [];
  if (a.registered === false) return [el("div", { class: "s phone offline" }, t("wb.phoneOffline"))];
  if (a.phone_busy && a.state === "ready") return [el("div", { class: "s phone busy" }, t("wb.phoneBusy"))];
  return [];
}

// today's calls handled (how many of them a dialler's) and occupancy (busy / (busy + ready idle)), from the live KPIs
function kpiNote(a) {
  const k = agentKpis[agentId(a)];
  if (!k) return [];
  const figures = { handled: num(k.handled, 0), outbound: num(k.outbound, 0), occupancy: percent(k.occupancy) };
  return [el("div", { class: "s kpi" }, t(k.outbound ? "wb.agentTodayOutbound" : "wb.agentToday", figures))];
}

function renderAgents() {
  const counts = {};
  for (const a of agents) counts[a.state] = (counts[a.state] || 0) + 1;
  $("agent-counts").replaceChildren(...STATES.filter((s) => counts[s]).map((s) =>
    el("span", { class: `agent-count ${s}` }, `${t(`state.${s}`)}: ${counts[s]}`)));
  $("agents").replaceChildren(...agents.map((a) => el("div", { class: `agent ${a.state}`, "data-agent": agentId(a) },
    el("div", { class: "n" }, a.name || agentId(a)),
    el("div", { class: "s" }, t(`state.${a.state}`) + (a.reason ? ` (${a.reason})` : "")),
    el("div", { class: "s since", "data-since": num(a.since, a.state_since, "") }, ""),
    ...phoneNote(a), ...kpiNote(a))));
  tick();
}

const lastQueue = (c) => { const qs = c.queues || []; return qs.length ? qs[qs.length - 1] : {}; };
const callAgents = (c) => [...new Set([...(c.agents || []), ...(c.queues || []).map((q) => q.agent), c.agent]
  .filter(Boolean).map(String))];
// the agents of a call by name, as their cards show them (the calls list has their ids)
const agentName = (id) => (agents.find((a) => agentId(a) === id) || {}).name || id;

// the ACD's view of a call it holds in Stasis, which the tracker knows only as "in progress": ringing an agent
// (that agent's card says so, for this call), or waiting in a queue (no answer, not left)
function callState(c) {
  const id = c.call_id || c.id;
  if (agents.some((a) => a.state === "ringing" && a.call_id === id)) return "ringing";
  const q = lastQueue(c);
  if (c.state !== "connected" && c.state !== "ended" && q.queue && q.left == null && q.answered == null) return "queued";
  return c.state || "";
}
const stateText = (s) => (t(`call.${s}`) === `call.${s}` ? s : t(`call.${s}`));

function renderCalls() {
  $("calls-empty").classList.toggle("hidden", calls.length > 0);
  $("calls").replaceChildren(...calls.map((c) => {
    const ids = callAgents(c);
    const state = callState(c);
    return el("tr", { "data-call": c.call_id || c.id },
      el("td", {}, [c.caller_name, c.caller_num || c.caller_number].filter(Boolean).join(" ")),
      el("td", {}, lastQueue(c).queue || c.queue || ""),
      el("td", { class: "call-agents", "data-agents": ids.join(" ") }, ids.map(agentName).join(", ")),
      el("td", { class: "call-state", "data-state": state }, stateText(state)),
      el("td", { class: "since", "data-since": num(c.started, c.started_at, "") }, ""));
  }));
  tick();
}

function tick() {
  const now = Date.now() / 1000;
  document.querySelectorAll("[data-since]").forEach((n) => {
    const since = Number(n.dataset.since);
    n.textContent = since ? duration(now - since) : "";
  });
}

// SL and volume per 30-min interval today: from the KPI report when the daemon has it, else from today's calls
async function charts() {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  const since = Math.floor(start.getTime() / 1000);
  const staff = me.role !== "agent";  // the KPI report is for supervisors and admins: an agent's page does not ask
  const report = staff ? await api.get(`/reports/kpi?from=${since}&to=${Math.floor(Date.now() / 1000) + 1}&interval=30m`).catch(() => null) : null;
  let rows = list(report, "intervals");
  if (!rows.length) rows = await intervalsFromHistory(since);
  const labels = rows.map((r) => new Date(num(r.start, r.since, 0) * 1000).toTimeString().slice(0, 5));
  const sl = rows.map((r) => { const v = num(r.service_level, r.sl); return v === undefined || v === null ? null : (v > 1 ? v / 100 : v); });
  lineChart($("chart-sl"), labels, sl, num(report?.sl_target, 0.8), t("wb.noData"));
  barChart($("chart-volume"), labels, [
    { label: t("wb.answered"), color: "#16a34a", values: rows.map((r) => num(r.answered, 0)) },
    { label: t("wb.abandoned"), color: "#dc2626", values: rows.map((r) => num(r.abandoned, 0)) },
  ], t("wb.noData"));
}

async function intervalsFromHistory(since, step = 1800, slSeconds = 20) {
  const ended = list(await api.get(`/calls/history?since=${since}&limit=1000`).catch(() => null), "calls");
  const seen = new Set();
  const bins = new Map();
  for (const c of [...calls, ...ended]) {  // the calls going on now count too: a live wallboard
    const id = c.call_id || c.id;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const q of c.queues || []) {
      if (!q.entered) continue;
      const key = Math.floor(q.entered / step) * step;
      const b = bins.get(key) || { start: key, answered: 0, abandoned: 0, inSl: 0 };
      if (q.outcome === "answered") { b.answered += 1; if ((q.wait_seconds ?? 1e9) <= slSeconds) b.inSl += 1; }
      else if (q.outcome === "abandoned") b.abandoned += 1;
      bins.set(key, b);
    }
  }
  return [...bins.values()].sort((a, b) => a.start - b.start).map((b) => ({
    ...b, service_level: b.answered + b.abandoned ? b.inSl / (b.answered + b.abandoned) : null,
  }));
}

// start (at the end: every helper above is initialised)
const me = await startPage("wallboard.html");
if (me) {
  initCampaigns({ role: me.role, onChange: refresh });
  await refresh();
  new Live({ topics: ["all"], onEvent: soon, onState: liveBadge, onSubscribed: soon }).start();
  setInterval(refresh, 5000);
  setInterval(tick, 1000);
  setInterval(charts, 30000);
  charts();
  document.addEventListener("languagechange", () => { refresh(); charts(); });
}
