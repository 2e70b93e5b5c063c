// Admin: the IVR editor, dialler campaigns, do-not-call lists, agents' queues/skills, webhook subscriptions and the
// dead-letter list.
import { api, list } from "./api.js";
import { t } from "./i18n.js";
import { initCampaigns } from "./campaign-admin.js";
import { initDnc } from "./dnc-admin.js";
import { initEditor } from "./ivr-editor.js";
import { act, el, liveBadge, startPage } from "./shell.js";
import { Live } from "./live.js";

const $ = (id) => document.getElementById(id);


function skillsText(skills) {
  if (!skills) return "";
  if (Array.isArray(skills)) return skills.map((s) => (typeof s === "string" ? s : `${s.name}=${s.level}`)).join(", ");
  return Object.entries(skills).map(([k, v]) => `${k}=${v}`).join(", ");
}

function parseSkills(text) {
  const out = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, level = "1"] = part.split("=").map((s) => s.trim());
    const n = Number(level);
    if (!name || !Number.isInteger(n) || n < 0) throw new Error(t("admin.badSkill", { part }));
    out[name] = n;
  }
  return out;
}

async function loadSkills() {
  const agents = list(await api.get("/agents").catch(() => null), "agents");
  $("skills").replaceChildren(...agents.map((raw) => {
    const a = { ...raw, id: String(raw.id ?? raw.agent ?? raw.agent_id ?? "") };
    const input = el("input", { value: skillsText(a.skills), size: 28, "aria-label": `skills ${a.id}` });
    const save = async () => {
      let skills;
      try { skills = parseSkills(input.value); } catch (err) { input.setCustomValidity(err.message); input.reportValidity(); return; }
      input.setCustomValidity("");
      await act(() => api.put(`/agents/${encodeURIComponent(a.id)}/skills`, { skills }), t("admin.savedSkills", { agent: a.id }));
    };
    return el("tr", {}, el("td", {}, a.name ? `${a.id} ${a.name}` : a.id), el("td", {}, (a.queues || []).join(", ")),
      el("td", {}, input), el("td", {}, el("button", { onclick: save }, t("agent.save"))));
  }));
}

async function loadWebhooks() {
  const hooks = list(await api.get("/webhooks").catch(() => null), "webhooks", "subscriptions");
  $("webhooks").replaceChildren(...hooks.map((h) => el("tr", {},
    el("td", {}, h.url), el("td", {}, (h.types || h.events || []).join(", ") || "*"),
    el("td", {}, el("button", { class: "bad", onclick: async () => { await act(() => api.del(`/webhooks/${encodeURIComponent(h.id)}`)); loadWebhooks(); } }, "×")))));
  const dead = await api.get("/webhooks/dead").catch(() => null);
  $("dead-count").textContent = t("admin.deadCount", { n: list(dead, "dead_letters", "deliveries").length });
}

async function addWebhook(e) {
  e.preventDefault();
  const events = $("wh-events").value.split(",").map((s) => s.trim()).filter(Boolean);
  const body = { url: $("wh-url").value.trim(), types: events.length ? events : ["*"] };
  if ($("wh-secret").value) body.secret = $("wh-secret").value;
  const out = await act(() => api.post("/webhooks", body), t("admin.webhookAdded"));
  if (out !== undefined) { $("wh-url").value = ""; $("wh-secret").value = ""; loadWebhooks(); }
}

// start (at the end: every helper above is initialised)
const me = await startPage("admin.html");
if (me) {
  await initEditor();
  await Promise.all([loadSkills(), loadWebhooks(), initCampaigns(), initDnc()]);
  new Live({ topics: ["all"], onEvent: () => {}, onState: liveBadge }).start();
  $("webhook-form").addEventListener("submit", addWebhook);
  $("btn-replay").addEventListener("click", async () => { await act(() => api.post("/webhooks/dead/replay", {}), t("admin.replayed")); loadWebhooks(); });
}
