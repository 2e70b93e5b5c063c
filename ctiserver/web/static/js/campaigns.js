// The wallboard's "Campaigns" card: every dialler campaign (GET /api/dialer/campaigns) with its state, pacing, lines
// ringing, answer rate, abandonment over its window against the cap, counters, and the Start / Pause / Stop buttons
// the state allows (POST /api/dialer/campaigns/{name}/start|pause|stop; a 409 is a toast). A campaign the PBX
// paused (its Originates refused: stats.halted) shows the PBX's message; a running one that dials nothing now
// (stats.waiting: no AMI link, a dialplan context missing…) says why. Under the table, a campaign's abandonment
// record and report of the last 30 days (records.js). Agents get 403: the card stays hidden.
import { api, list } from "./api.js";
import { lang, t } from "./i18n.js";
import { showRecord, showReport } from "./records.js";
import { act, el } from "./shell.js";

const $ = (id) => document.getElementById(id);
const STAFF = new Set(["supervisor", "admin", "unknown"]);
const HIDE = new Set([401, 403, 404, 503]);  // not for this token, or no dialer in this daemon: no card, no toast
// the transitions the campaign state machine allows (ctiserver/dialer/campaign_state.py)
const ACTIONS = {
  draft: ["start", "stop"], running: ["pause", "stop"], paused: ["start", "stop"], stopped: ["start"], completed: ["start", "stop"],
};
const COLUMNS = 11;
let allowed = true;
let changed = () => {};

// role: the signed-in role (an agent never asks); onChange: refresh the wallboard after a button's action
export function initCampaigns({ role, onChange }) {
  allowed = STAFF.has(role || "unknown");
  changed = onChange || changed;
  // a campaign's records of the last 30 days, under the table (records.js): kept across the 5-s refreshes
  $("wb-record").addEventListener("click", () => showRecord($("wb-camp").value, $("wb-camp-record")));
  $("wb-report").addEventListener("click", () => showReport($("wb-camp").value, $("wb-camp-report"), $("wb-report-csv")));
}

// the answer for renderCampaigns(): the list, {hide: true} (refused / no dialer), or null (a passing failure)
export async function fetchCampaigns() {
  if (!allowed) return { hide: true };
  try {
    return { campaigns: list(await api.get("/dialer/campaigns"), "campaigns") };
  } catch (err) {
    return HIDE.has(err.status) ? { hide: true } : null;
  }
}

export function renderCampaigns(answer) {
  if (!answer) return;
  const card = $("campaigns-card");
  card.classList.toggle("hidden", Boolean(answer.hide));
  if (answer.hide) return;
  $("campaigns-empty").classList.toggle("hidden", answer.campaigns.length > 0);
  const table = $("campaigns");
  table.classList.toggle("hidden", !answer.campaigns.length);
  table.replaceChildren(table.tHead, ...answer.campaigns.map(campaign));  // a <tbody> per campaign
  const select = $("wb-camp");
  const chosen = select.value;
  const names = answer.campaigns.map((c) => c.name);
  if (names.join("\n") !== [...select.options].map((o) => o.value).join("\n")) {
    select.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
    if (names.includes(chosen)) select.value = chosen;
  }
  $("camp-records").classList.toggle("hidden", !names.length);
}

const count = (counters, key) => Number((counters || {})[key] || 0);
const named = (prefix, key) => (t(`${prefix}.${key}`) === `${prefix}.${key}` ? key : t(`${prefix}.${key}`));  // unknown: as is

function pct(value) {  // 0.021 -> "2.1 %" in the page's language
  const v = Number(value) || 0;
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(v * 100)} %`;
}

function campaign(c) {
  const s = c.stats || {};
  const state = s.state || c.state;
  const mode = s.mode || c.settings?.mode || "";
  const pacing = s.pacing && s.pacing !== mode
    ? t("wb.campPacingNow", { mode: named("pacing", mode), pacing: named("pacing", s.pacing) }) : named("pacing", mode);
  const abandon = Number(s.abandon_rate_window) || 0;
  const cap = Number(s.abandon_cap) || 0;
  const over = cap > 0 && abandon >= cap;
  const rows = [el("tr", { class: "campaign" },
    el("td", { class: "c-name" }, c.name),
    el("td", { class: `c-state camp-${state}` }, named("campaign", state)),
    el("td", { class: "c-pacing" }, pacing),
    el("td", { class: "c-ringing" }, Number(s.ringing) || 0),
    el("td", { class: "c-answer" }, pct(s.answer_rate)),
    el("td", { class: `c-abandon${over ? " bad" : ""}` }, `${pct(abandon)} / ${pct(cap)}`),
    el("td", { class: "c-dialled" }, count(s.counters, "dialled")),
    el("td", { class: "c-connected" }, count(s.counters, "connected")),
    el("td", { class: "c-abandoned" }, count(s.counters, "abandoned")),
    el("td", { class: "c-opted-out" }, count(s.counters, "opted_out")),  // the opt-out key on the message
    el("td", { class: "c-actions" }, ...(ACTIONS[state] || []).map((action) => button(c.name, state, action))))];
  if (typeof s.halted === "string" && s.halted) {
    rows.push(el("tr", { class: "halted" }, el("td", { class: "c-halted bad", colspan: COLUMNS },
      el("strong", {}, t("wb.campHalted")), " ", s.halted)));
  }
  if (s.waiting && typeof s.waiting.code === "string") {
    const why = t(`wb.campWait.${s.waiting.code}`, { detail: s.waiting.detail || "" });
    rows.push(el("tr", { class: "waiting" }, el("td", { class: "c-waiting", colspan: COLUMNS },
      el("strong", {}, t("wb.campWaiting")), " ", why.startsWith("wb.") ? s.waiting.code : why)));
  }
  return el("tbody", { "data-campaign": c.name, "data-state": state }, rows);
}

function button(name, state, action) {
  const label = { start: state === "paused" ? t("wb.campResume") : t("wb.campStart"), pause: t("wb.campPause"), stop: t("wb.campStop") }[action];
  return el("button", {
    class: action === "start" ? "ok" : "", "data-action": action,
    onclick: async (e) => {
      e.currentTarget.disabled = true;
      await act(() => api.post(`/dialer/campaigns/${encodeURIComponent(name)}/${action}`, {}));
      changed();
    },
  }, label);
}
