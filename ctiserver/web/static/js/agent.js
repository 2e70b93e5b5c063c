// The agent page: device login, ready / pause / end wrap-up, the pop while the phone rings, call controls,
// disposition + notes in wrap-up (a dialler call: the campaign's dispositions), click-to-dial, own call-backs and
// scheduling one (callbacks.js), keyboard shortcuts. Live over the WebSocket.
import { api, list } from "./api.js";
import { callbackEvent, focusForm, initCallbacks, loadCallbacks, prefill, relabel, setCampaigns } from "./callbacks.js";
import { duration, percent, t } from "./i18n.js";
import { Live } from "./live.js";
import { renderPop } from "./pop.js";
import { act, el, liveBadge, startPage, toast } from "./shell.js";

const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["ringing", "reserved", "on_call"]);
const state = { agent: null, state: "logged_out", since: Date.now(), reason: "", call: null, held: false,
  rec: "none", recChanges: 0, consult: null, wrapCall: null, reasons: [], dispositions: [], role: "agent", campaigns: [], changes: 0 };
// call id → what the pop / offer told about the customer: {callId, number, name, campaign, contactId, attempt}
const CALLS = "ctiserver.agent.calls";
const calls = new Map(JSON.parse(sessionStorage.getItem(CALLS) || "[]"));


async function main(me) {
  state.agent = me.agent || new URLSearchParams(location.search).get("agent");
  if (!state.agent) { toast(t("agent.noAgent"), true); return; }
  state.role = me.role || "agent";
  initCallbacks({ agent: state.agent, role: state.role, dial });
  await Promise.all([loadLists(), loadCampaigns()]);
  await refreshAgent();
  bind();
  new Live({ topics: [`agent:${state.agent}`], onEvent, onState: liveBadge, onSubscribed: refreshAgent }).start();
  setInterval(tick, 1000);
  loadCallbacks();
  setInterval(loadCallbacks, 30000);
  setInterval(loadDay, 60000);
  const last = [...calls.values()].pop();
  if (last) prefill(last);
}

// every campaign's dispositions (GET /api/dialer/dispositions); none when the dialer does not run here
async function loadCampaigns() {
  const data = await api.get("/dialer/dispositions").catch(() => null);
  state.campaigns = list(data, "campaigns");
  setCampaigns(state.campaigns);
}

// what the pop (ivr.variables = the attached data) or the ACD's offer (attached) says about the customer
function remember(callId, number, name, attached) {
  if (!callId) return;
  const a = attached || {};
  const prev = calls.get(callId) || {};
  const dialler = a.campaign && a.contact_id && a.dialer_attempt;
  const info = { ...prev, callId, number: number || prev.number || a.number || "", name: name || prev.name || a.name || "",
    ...(dialler ? { campaign: String(a.campaign), contactId: String(a.contact_id), attempt: String(a.dialer_attempt) } : {}) };
  calls.delete(callId);
  calls.set(callId, info);
  while (calls.size > 20) calls.delete(calls.keys().next().value);
  sessionStorage.setItem(CALLS, JSON.stringify([...calls]));
  prefill(info);
}

// a configured code shows its translation when the UI has one, else the label the server gave
function translated(prefix, item) {
  const key = `${prefix}.${item.code}`;
  const text = t(key);
  return text !== key ? text : (item.label || item.code);
}

async function loadLists() {
  const reasons = await api.get("/pause-reasons").catch(() => null);
  // GET /api/pause-reasons: [{code, label, automatic}] from the acd: section; automatic ones (missed, unreachable) are set by the ACD
  state.reasons = list(reasons, "reasons").map((r) => (typeof r === "string" ? { code: r } : r))
    .filter((r) => !r.automatic).map((r) => ({ ...r, label: translated("reason", r) }));
  if (!state.reasons.length) state.reasons = ["break", "lunch", "training", "meeting"].map((c) => ({ code: c, label: t(`reason.${c}`) }));
  $("pause-reason").replaceChildren(...state.reasons.map((r) => el("option", { value: r.code }, r.label || r.code)));
  const dispos = await api.get("/dispositions").catch(() => null);
  state.dispositions = list(dispos, "dispositions").map((d) => (typeof d === "string" ? { code: d } : d))
    .map((d) => ({ ...d, label: translated("dispo", d) }));
  if (!state.dispositions.length) state.dispositions = ["resolved", "follow_up", "sale", "complaint", "wrong_number"].map((c) => ({ code: c, label: t(`dispo.${c}`) }));
  $("dispo-code").replaceChildren(el("option", { value: "" }, t("agent.choose")),
    ...state.dispositions.map((d) => el("option", { value: d.code }, d.label || d.code)));
}

// the agent's own day from the live KPIs (GET /kpi/agents answers an agent token with itself): calls (how many of
// them a dialler's), occupancy
async function loadDay() {
  const mine = list(await api.get("/kpi/agents").catch(() => null), "agents").find((x) => String(x.agent) === String(state.agent));
  const today = mine?.windows?.today;
  const figures = today && { handled: today.handled ?? 0, outbound: today.outbound ?? 0, occupancy: percent(today.occupancy) };
  $("my-day").textContent = today ? t(today.outbound ? "agent.myDayOutbound" : "agent.myDay", figures) : "";
}

async function refreshAgent() {
  loadDay();
  const changes = state.changes;
  const a = await api.get(`/agents/${encodeURIComponent(state.agent)}`).catch(() => null);
  if (a) $("device").textContent = a.device || `PJSIP/${state.agent}`;
  // a state that came live (or from an action) while this answer was on its way is newer: keep it
  if (a && changes === state.changes) applyState(a.state || "logged_out", a.reason || "", a.since ?? a.state_since, a.call_id);
  if (state.state === "on_call" && state.call) loadRecording(state.call);
}

function applyState(next, reason = "", since = null, callId = undefined) {
  state.changes += 1;
  const prev = state.state;
  state.state = next;
  state.reason = reason || "";
  state.since = since ? since * 1000 : Date.now();
  if (callId !== undefined) setCall(callId || state.call);
  if (next === "wrap_up" && (state.call || state.wrapCall)) showWrapup(state.call || state.wrapCall);
  if (prev === "wrap_up" && next !== "wrap_up") $("wrapup").classList.add("hidden");
  if (!ACTIVE.has(next) && next !== "wrap_up") { state.call = null; $("controls").classList.add("hidden"); }
  render();
}

// the current call; another call starts with no recording known (its events or GET …/recordings tell)
function setCall(callId) {
  if (callId !== state.call) { setRec("none"); state.held = false; }
  state.call = callId;
}

// recording: none → the button starts one; recording → pauses it (card numbers); paused → resumes it
const REC_LABEL = { none: "agent.recStart", recording: "agent.recPause", paused: "agent.recResume" };
const REC_ACTION = { none: "start", recording: "pause", paused: "resume" };
const recState = (meta) => (meta?.state === "recording" || meta?.state === "paused" ? meta.state : "none");
function setRec(rec) { state.rec = rec; state.recChanges += 1; }

// what runs on the call now (a page opened mid-call, a recording the queue's policy started on answer); an event
// or an action that came while the answer was on its way is newer: it wins
async function loadRecording(callId) {
  const changes = state.recChanges;
  const found = await api.get(`/calls/${encodeURIComponent(callId)}/recordings`).catch(() => null);
  if (found && state.call === callId && changes === state.recChanges) {
    setRec(recState(list(found, "recordings").at(-1)));
    render();
  }
}

function render() {
  const loggedIn = state.state !== "logged_out";
  $("login-form").classList.toggle("hidden", loggedIn);
  $("state-panel").classList.toggle("hidden", !loggedIn);
  const s = $("state");
  s.className = `state state-${state.state}`;
  s.textContent = t(`state.${state.state}`) + (state.reason ? ` — ${reasonLabel(state.reason)}` : "");
  $("btn-ready").disabled = !["not_ready", "wrap_up"].includes(state.state);
  $("btn-pause").disabled = !["ready", "wrap_up", "not_ready"].includes(state.state);
  $("btn-wrapup-end").disabled = state.state !== "wrap_up";
  $("btn-logout").disabled = ACTIVE.has(state.state);
  const onCall = state.state === "on_call" && state.call;
  $("controls").classList.toggle("hidden", !onCall);
  $("btn-hold").querySelector("span").textContent = t(state.held ? "agent.resume" : "agent.hold");
  $("btn-rec").querySelector("span").textContent = t(REC_LABEL[state.rec]);
  if (!onCall) state.consult = null;
  const c = state.consult;
  $("consult").classList.toggle("hidden", !c);
  $("btn-consult").disabled = Boolean(c);
  $("btn-consult-complete").disabled = !c?.answered;
  if (c) $("consult-status").textContent = t(c.answered ? "agent.consulting" : "agent.consultRinging", { target: c.target });
  $("idle-card").classList.toggle("hidden", !$("pop").classList.contains("hidden"));
  tick();
}

function reasonLabel(code) { return state.reasons.find((r) => r.code === code)?.label || code; }

function tick() {
  if (state.state !== "logged_out") $("state-time").textContent = duration((Date.now() - state.since) / 1000);
}

function onEvent(ev) {
  const d = ev.data || {};
  switch (ev.type) {
    case "screen.pop":
      setCall(d.call_id || ev.subject);
      remember(state.call, d.caller?.e164 || d.caller?.number, d.caller?.name || d.contact?.name, d.ivr?.variables);
      renderPop($("pop"), d);
      if (d.phase === "answered") applyState("on_call", "", ev.time, state.call); else render();
      break;
    case "agent.state":
      applyState(d.state || d.to, d.reason, ev.time, d.call_id);
      // a call ended: its count and time (the KPIs count it with its call.ended, which may follow the wrap-up)
      if (d.state === "wrap_up" || d.state === "ready") setTimeout(loadDay, 1500);
      break;
    case "agent.offered": case "agent.ringing":
      setCall(d.call_id || ev.subject);
      remember(state.call, d.caller_number, d.caller_name, d.attached);
      if (ev.type === "agent.ringing") applyState("ringing", "", ev.time, state.call);
      break;
    case "agent.answered":
      applyState("on_call", "", ev.time, d.call_id || ev.subject);
      loadRecording(state.call);
      break;
    case "recording.started": case "recording.paused": case "recording.resumed": case "recording.ready":
      if ((d.call_id || ev.subject) === state.call) { setRec(recState(d)); render(); }
      break;
    case "call.transferred": case "call.transfer_cancelled":
      // the consultation is over (completed, cancelled, or a hang-up of the consulted party)
      if ((d.call_id || ev.subject) === state.call && state.consult) {
        if (ev.type === "call.transfer_cancelled" && d.reason?.endsWith("hung_up")) toast(t(`agent.consultEnded.${d.reason}`), true);
        state.consult = null;
        render();
      }
      break;
    case "call.ended":
      if ((d.call_id || ev.subject) === state.call) { state.wrapCall = state.call; state.held = false; setRec("none"); }
      break;
    default:
      if (ev.type.startsWith("callback.")) callbackEvent(ev);
  }
}

function showWrapup(callId) {
  const fresh = $("wrapup").dataset.callId !== callId || $("wrapup").classList.contains("hidden");
  state.wrapCall = callId;
  $("wrapup").classList.remove("hidden");
  $("wrapup").dataset.callId = callId;
  if (fresh) $("dispo-saved").textContent = "";
  fillDispositions(calls.get(callId));
}

// a dialler call offers its campaign's dispositions (do_not_call puts the number on the campaign's DNC list);
// any other call the configured ones
async function fillDispositions(info) {
  const keep = $("dispo-code").value;
  let codes = state.dispositions;
  const campaign = info?.campaign;
  if (campaign) {
    if (!state.campaigns.some((c) => c.campaign === campaign)) await loadCampaigns();
    const found = state.campaigns.find((c) => c.campaign === campaign);
    if (found) codes = found.dispositions.map((code) => ({ code, label: translated("dispo", { code }) }));
  }
  $("dispo-campaign").textContent = campaign ? t("agent.dispoCampaign", { campaign }) : "";
  $("dispo-campaign").classList.toggle("hidden", !campaign);
  $("dispo-code").replaceChildren(el("option", { value: "" }, t("agent.choose")),
    ...codes.map((d) => el("option", { value: d.code }, d.label || d.code)));
  if (codes.some((d) => d.code === keep)) $("dispo-code").value = keep;
}

async function agentAction(action, body = {}) {
  const out = await act(() => api.post(`/agents/${encodeURIComponent(state.agent)}/${action}`, body));
  if (out && out.state) applyState(out.state, out.reason, out.since ?? out.state_since, out.call_id);
  return out;
}

function callAction(path, body = {}, ok) {
  if (!state.call) return undefined;
  return act(() => api.post(`/calls/${encodeURIComponent(state.call)}/${path}`, body), ok);
}

async function saveDisposition(e) {
  e?.preventDefault();
  const callId = $("wrapup").dataset.callId;
  const code = $("dispo-code").value;
  if (!callId || !code) { toast(t("agent.chooseDisposition"), true); return; }
  const info = calls.get(callId);
  if (info?.campaign && info.contactId) {
    // a dialler call: first the campaign's outcome for the contact (do_not_call → the campaign's DNC list, at once);
    // if the API refuses it, nothing else is saved and the agent sees why
    const path = `/dialer/campaigns/${encodeURIComponent(info.campaign)}/contacts/${encodeURIComponent(info.contactId)}/disposition`;
    if ((await act(() => api.post(path, { disposition: code }))) === undefined) return;
  }
  // every call, a dialler one too: the call record keeps the code and the notes — the customer's history in the
  // CRM (the next pop shows it), the call history and the KPI reports (FCR, dispositions) read it there, and the
  // dialer's disposition has no notes. A supervisor expects one place that says what happened on each call.
  const out = await act(() => api.post(`/calls/${encodeURIComponent(callId)}/disposition`,
    { code, notes: $("dispo-notes").value }), t("agent.saved"));
  if (out !== undefined) { $("dispo-saved").textContent = t("agent.saved"); $("dispo-notes").value = ""; }
}

function transferTarget() {
  const value = $("transfer-target").value.trim();
  const kind = $("transfer-kind").value;
  return !value ? "" : kind === "number" ? value : `${kind}:${value}`;
}

// attended transfer: the caller holds while the target rings; the request answers when the target answers
// (or fails: not ready, unreachable, cancelled), then the agent completes it or goes back to the caller
async function consult() {
  const target = transferTarget();
  if (!target || !state.call || state.consult) return;
  const mine = { target, answered: false };
  state.consult = mine;
  render();
  const out = await callAction("transfer", { target, kind: "attended" });
  if (state.consult !== mine) return;  // over meanwhile (cancelled, the call ended)
  if (out === undefined) state.consult = null; else mine.answered = true;
  render();
}

async function dial(number) {
  number = String(number || "").trim();
  if (!number) return;
  await act(() => api.post("/calls/dial", { agent: state.agent, number }), t("agent.dialing", { number }));
}

function bind() {
  $("btn-login").addEventListener("click", () => agentAction("login"));
  $("btn-logout").addEventListener("click", () => agentAction("logout"));
  $("btn-ready").addEventListener("click", () => agentAction("ready"));
  $("btn-pause").addEventListener("click", () => agentAction("pause", { reason: $("pause-reason").value }));
  $("btn-wrapup-end").addEventListener("click", () => agentAction("wrapup-end"));
  $("btn-hangup").addEventListener("click", () => callAction("hangup"));
  $("btn-hold").addEventListener("click", async () => {
    if ((await callAction("hold", { on: !state.held })) !== undefined) { state.held = !state.held; render(); }
  });
  $("btn-rec").addEventListener("click", async () => {
    const out = await callAction("recording", { action: REC_ACTION[state.rec] });
    if (out !== undefined) { setRec(recState(out)); render(); }
  });
  $("transfer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const target = transferTarget();
    if (target) callAction("transfer", { target, kind: "blind" }, t("agent.transferred"));
  });
  $("btn-consult").addEventListener("click", consult);
  $("btn-consult-complete").addEventListener("click", async () => {
    if ((await callAction("transfer/complete")) !== undefined) { state.consult = null; render(); }
  });
  $("btn-consult-cancel").addEventListener("click", async () => {
    if ((await callAction("transfer/cancel")) !== undefined) { state.consult = null; render(); }
  });
  $("dispo-form").addEventListener("submit", saveDisposition);
  $("btn-callback-later").addEventListener("click", () => { prefill(calls.get($("wrapup").dataset.callId)); focusForm(); });
  $("dial-form").addEventListener("submit", (e) => { e.preventDefault(); dial($("dial-number").value); });
  document.addEventListener("languagechange", async () => {
    await loadLists();
    if (!$("wrapup").classList.contains("hidden")) fillDispositions(calls.get($("wrapup").dataset.callId));
    relabel();
    render();
  });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.key === "Enter" && !$("wrapup").classList.contains("hidden")) { saveDisposition(e); return; }
    if (!e.altKey) return;
    const keys = { r: "btn-ready", p: "btn-pause", w: "btn-wrapup-end", h: "btn-hold", x: "btn-hangup", m: "btn-rec" };
    const k = e.key.toLowerCase();
    if (keys[k]) { e.preventDefault(); const b = $(keys[k]); if (!b.disabled && b.offsetParent) b.click(); }
    if (k === "t") { e.preventDefault(); $("transfer-target").focus(); }
    if (k === "d") { e.preventDefault(); $("dial-number").focus(); }
  });
}

// start (at the end: every helper above is initialised)
const me = await startPage("agent.html");
if (me) await main(me);
