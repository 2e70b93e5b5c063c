// A dialler campaign's records of the last 30 days, for the admin's and the supervisor's screens: its abandonment
// record (per UTC day: live answers, abandoned, AMD verdicts, estimated false positives, the rate against the cap;
// the worst rolling window) and its report (per UTC day: attempts, contacts, outcomes, rates, talk; a CSV download).
import { api, base, getToken } from "./api.js";
import { t } from "./i18n.js";
import { act, el } from "./shell.js";

function pct(x) { return `${(100 * x).toFixed(2)} %`; }

function last30Days() {
  const day = 86400;
  const to = Math.ceil(Date.now() / 1000 / day) * day;  // the end of today (UTC)
  return `from=${to - 30 * day}&to=${to}`;
}

export async function showRecord(name, box) {
  const rec = await act(() => api.get(`/dialer/campaigns/${encodeURIComponent(name)}/abandonment?${last30Days()}`));
  if (!rec) return;
  const head = el("tr", {}, ...["admin.day", "admin.live", "admin.abandonedCol", "admin.machines", "admin.estFp", "admin.rate"]
    .map((k) => el("th", {}, t(k))));
  const rows = rec.days.map((d) => el("tr", {}, el("td", {}, d.day), el("td", {}, String(d.live)),
    el("td", {}, String(d.abandoned)), el("td", {}, String(d.machines)), el("td", {}, d.false_positives.toFixed(1)),
    el("td", { class: d.rate > rec.cap ? "bad" : "" }, pct(d.rate))));
  const worst = rec.worst
    ? t("admin.worst", { window: rec.window, rate: pct(rec.worst.rate), cap: pct(rec.cap), hours: rec.hours_over_cap })
    : t("admin.noRecord");
  box.replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, rows)),
    el("p", { class: rec.hours_over_cap ? "bad" : "muted", id: "camp-worst" }, worst));
}

export async function showReport(campaign, box, link) {
  const name = encodeURIComponent(campaign);
  const period = last30Days();
  const rep = await act(() => api.get(`/dialer/campaigns/${name}/report?${period}`));
  if (!rep) return;
  const cols = ["admin.day", "admin.attempts", "admin.contacts", "admin.connected", "admin.abandonedCol",
    "admin.answerRate", "admin.connectRate", "admin.avgTalk"];
  const rows = rep.days.map((d) => el("tr", {}, el("td", {}, d.day), el("td", {}, String(d.attempts)),
    el("td", {}, String(d.contacts)), el("td", {}, String(d.connected)), el("td", {}, String(d.abandoned_total)),
    el("td", {}, pct(d.answer_rate)), el("td", {}, pct(d.connect_rate)),
    el("td", {}, d.avg_talk === null ? "—" : `${Math.round(d.avg_talk)} s`)));
  box.replaceChildren(el("table", {}, el("thead", {}, el("tr", {}, ...cols.map((k) => el("th", {}, t(k))))),
    el("tbody", {}, rows)));
  // the CSV needs the token: fetched here, offered as a download of what came back
  const res = await fetch(new URL(`api/dialer/campaigns/${name}/report.csv?${period}`, base),
    { headers: { Authorization: `Bearer ${getToken()}` } });
  if (res.ok) {
    URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(await res.blob());
    link.download = `campaign-${campaign}.csv`;
    link.hidden = false;
  }
}
