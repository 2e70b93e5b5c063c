// The agent page's call-backs: "My call-backs" (GET /api/callbacks — the dialer's pending call-backs, an agent
// token gets only its own personal ones — kept up to date live by callback.* events) and the form that schedules
// one for the current / last customer (POST /api/dialer/campaigns/{campaign}/callbacks). Personal by default;
// "for the campaign's queue" is offered only to supervisors/admins: the API refuses it for an agent token.
import { api, list } from "./api.js";
import { lang, t } from "./i18n.js";
import { act, el, toast } from "./shell.js";

const $ = (id) => document.getElementById(id);
const STAFF = new Set(["supervisor", "admin"]);
const ctx = { agent: null, role: "agent", dial: null, campaigns: [], customer: null };
// id → {id, campaign?, number, at, agent, name, note}; from the API (dialer: campaign set) and from live events
const items = new Map();

export function initCallbacks({ agent, role, dial }) {
  Object.assign(ctx, { agent, role, dial });
  $("cb-form").addEventListener("submit", schedule);
  renderFor();
  resetWhen();
}

function renderFor() {
  const options = [el("option", { value: "me" }, t("agent.cbPersonal"))];
  if (STAFF.has(ctx.role)) options.push(el("option", { value: "queue" }, t("agent.cbQueue")));
  $("cb-for").replaceChildren(...options);
  $("cb-for").disabled = options.length === 1;
}

// the campaigns a call-back may go to (GET /api/dialer/dispositions); the form shows only when there are some
export function setCampaigns(campaigns) {
  ctx.campaigns = campaigns;
  const select = $("cb-campaign");
  const keep = select.value;
  select.replaceChildren(...campaigns.map((c) => el("option", { value: c.campaign }, c.campaign)));
  const wanted = ctx.customer?.campaign || keep;
  if (campaigns.some((c) => c.campaign === wanted)) select.value = wanted;
  $("cb-form").classList.toggle("hidden", !campaigns.length);
  $("cb-none").classList.toggle("hidden", campaigns.length > 0);
}

// the current / last customer: number (and campaign of a dialler call) prefilled
export function prefill(customer) {
  if (!customer || !customer.number) return;
  ctx.customer = customer;
  $("cb-number").value = customer.number;
  if (customer.campaign && ctx.campaigns.some((c) => c.campaign === customer.campaign)) $("cb-campaign").value = customer.campaign;
}

export function focusForm() {
  $("cb-at").focus();
}

function resetWhen() {
  const d = new Date(Date.now() + 3600_000);
  d.setMinutes(Math.ceil(d.getMinutes() / 5) * 5, 0, 0);
  const pad = (n) => String(n).padStart(2, "0");
  $("cb-at").value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function schedule(e) {
  e.preventDefault();
  const campaign = $("cb-campaign").value;
  const number = $("cb-number").value.trim();
  const at = new Date($("cb-at").value).getTime() / 1000;  // datetime-local: the agent's local time
  if (!campaign || !number) { toast(t("agent.cbMissing"), true); return; }
  if (!Number.isFinite(at) || at <= Date.now() / 1000) { toast(t("agent.cbPast"), true); return; }
  const note = $("cb-note").value.trim();
  const fields = {};
  if (note) fields.note = note;
  if (ctx.customer?.callId && ctx.customer.number === number) fields.from_call = ctx.customer.callId;
  const body = { number, at, fields, name: ctx.customer?.number === number ? (ctx.customer.name || "") : "" };
  if ($("cb-for").value === "me") body.agent = ctx.agent;  // "queue": no agent (the API refuses it for agents)
  const when = new Date(at * 1000).toLocaleString(lang);
  const out = await act(() => api.post(`/dialer/campaigns/${encodeURIComponent(campaign)}/callbacks`, body),
    t("agent.cbScheduled", { when }));
  if (out === undefined) return;
  if (out.agent === ctx.agent) items.set(out.contact_id, { ...out, id: out.contact_id, name: body.name, note });
  $("cb-note").value = "";
  resetWhen();
  render();
  loadCallbacks();
}

export function callbackEvent(ev) {
  const d = ev.data || {};
  const id = String(d.contact_id || d.id || d.callback_id || ev.subject);
  if (/\.(done|completed|cancelled|canceled|failed|expired)$/.test(ev.type)) items.delete(id);
  else items.set(id, { id, campaign: d.campaign, number: d.number, at: d.at ?? d.due_at ?? d.when ?? ev.time,
    agent: d.agent, name: d.name || "", note: d.note || d.queue || "" });
  render();
}

export async function loadCallbacks() {
  if (!ctx.agent) return;
  let data;
  try {
    data = await api.get(`/callbacks?agent=${encodeURIComponent(ctx.agent)}`);
  } catch {
    return;  // no dialer in this daemon (503) or offline: the live events still fill the list
  }
  // the API is the truth for the dialer's call-backs; entries from other sources (no campaign) stay
  for (const [id, c] of items) if (c.campaign) items.delete(id);
  for (const c of list(data, "callbacks")) {
    items.set(c.contact_id, { ...c, id: c.contact_id, note: c.fields?.note || "" });
  }
  render();
}

async function cancel(c) {
  const out = await act(() => api.del(`/dialer/campaigns/${encodeURIComponent(c.campaign)}/callbacks/${encodeURIComponent(c.id)}`),
    t("agent.cbCancelled"));
  if (out !== undefined) { items.delete(c.id); render(); }
}

function render() {
  const rows = [...items.values()].filter((c) => c.number).sort((a, b) => (a.at || 0) - (b.at || 0));
  $("callbacks-empty").classList.toggle("hidden", rows.length > 0);
  $("callbacks").replaceChildren(...rows.map((c) => el("tr", { "data-id": c.id },
    el("td", {}, c.at ? new Date(c.at * 1000).toLocaleString(lang) : ""),
    el("td", {}, c.number || ""),
    el("td", {}, [c.note, c.name, c.campaign].filter(Boolean).join(" · ")),
    el("td", {}, el("button", { onclick: () => ctx.dial?.(c.number) }, t("agent.call")),
      c.campaign ? el("button", { class: "cb-cancel", onclick: () => cancel(c) }, t("agent.cbCancel")) : null))));
}

export function relabel() {
  const value = $("cb-for").value;
  renderFor();
  if ([...$("cb-for").options].some((o) => o.value === value)) $("cb-for").value = value;
  render();
}
