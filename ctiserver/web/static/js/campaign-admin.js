// Admin: dialler campaigns — settings as JSON (created / edited through the API, which names the field it refuses),
// contact lists imported from CSV with an upload progress bar and the rejected rows, the abandonment record of
// the last 30 days (per day, the worst rolling window against the cap) and the campaign report (per day, CSV).
import { api, base, getToken } from "./api.js";
import { t } from "./i18n.js";
import { showRecord, showReport } from "./records.js";
import { el, errorText, toast } from "./shell.js";

const $ = (id) => document.getElementById(id);
const NEW = "";
const WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const TEMPLATE = {
  name: "", mode: "progressive", queue: "outbound", caller_id: "",
  windows: { days: Object.fromEntries(WEEK.slice(0, 5).map((d) => [d, ["09:00-20:00"]])), holidays: [] },
  ring_timeout: 25, retry: { max_attempts: 3 }, abandon_cap: 0.03, abandon_window: "30d", amd: true,
  abandon_message: ["sound:ctiserver/dialer-sorry"], opt_out_key: "9",
};
let campaigns = [];

function problem(text) {
  $("camp-problem").textContent = text;
  $("camp-problem").hidden = !text;
}

async function loadCampaigns(select) {
  try {
    campaigns = await api.get("/dialer/campaigns");
  } catch {
    $("campaign-admin").hidden = true;  // no dialler in this daemon
    return;
  }
  const chosen = select ?? $("camp-list").value;
  $("camp-list").replaceChildren(
    el("option", { value: NEW }, t("admin.newCampaign")),
    ...campaigns.map((c) => el("option", { value: c.name }, `${c.name} (${t(`campaign.${c.state}`)})`)),
  );
  $("camp-list").value = campaigns.some((c) => c.name === chosen) ? chosen : NEW;
  showCampaign();
}

function showCampaign() {
  const c = campaigns.find((x) => x.name === $("camp-list").value);
  $("camp-settings").value = JSON.stringify(c ? c.settings : TEMPLATE, null, 2);
  for (const id of ["list-file", "btn-import", "btn-record", "btn-report"]) $(id).disabled = !c;
  $("report-csv").hidden = true;
  $("camp-report").replaceChildren();
  problem("");
  $("list-result").textContent = "";
  $("list-rejects").replaceChildren();
  $("camp-record").replaceChildren();
}

async function saveCampaign() {
  let settings;
  try {
    settings = JSON.parse($("camp-settings").value);
  } catch (err) {
    problem(t("admin.badJson", { error: err.message }));
    return;
  }
  const name = $("camp-list").value;
  try {
    if (name === NEW) {
      await api.post("/dialer/campaigns", settings);
    } else {
      delete settings.name;  // fixed: the URL names the campaign
      await api.patch(`/dialer/campaigns/${encodeURIComponent(name)}`, settings);
    }
  } catch (err) {
    problem(err.status === 409 ? t("admin.pauseFirst") : errorText(err));
    return;
  }
  await loadCampaigns(settings.name || name);  // the list shows the saved campaign before the toast says so
  toast(t("admin.savedCampaign", { name: settings.name || name }));
}

// XMLHttpRequest, not fetch: only it reports the upload's progress
function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", new URL(`api${path}`, base));
    xhr.setRequestHeader("Authorization", `Bearer ${getToken()}`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = { message: xhr.responseText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(Object.assign(new Error(data?.message || `HTTP ${xhr.status}`), { field: data?.field, status: xhr.status }));
    };
    xhr.onerror = () => reject(new Error("network"));
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

async function importList() {
  const file = $("list-file").files[0];
  const name = $("camp-list").value;
  if (!file || !name) return;
  const map = $("list-map").value.trim();
  const bar = $("list-progress");
  bar.hidden = false;
  bar.value = 0;
  $("btn-import").disabled = true;
  try {
    const path = `/dialer/campaigns/${encodeURIComponent(name)}/import${map ? `?map=${encodeURIComponent(map)}` : ""}`;
    const out = await upload(path, file, (share) => { bar.value = share; });
    bar.value = 1;
    $("list-result").textContent = t("admin.imported", {
      imported: out.imported, duplicates: out.duplicates, rejected: out.rejected.length,
    });
    $("list-rejects").replaceChildren(...out.rejected.slice(0, 100).map((r) =>
      el("tr", {}, el("td", {}, String(r.line)), el("td", {}, r.reason))));
  } catch (err) {
    $("list-result").textContent = errorText(err);
  } finally {
    $("btn-import").disabled = false;
  }
}

export async function initCampaigns() {
  $("camp-list").addEventListener("change", showCampaign);
  $("btn-camp-save").addEventListener("click", saveCampaign);
  $("btn-import").addEventListener("click", importList);
  $("btn-record").addEventListener("click", () => showRecord($("camp-list").value, $("camp-record")));
  $("btn-report").addEventListener("click", () => showReport($("camp-list").value, $("camp-report"), $("report-csv")));
  await loadCampaigns(NEW);
}
