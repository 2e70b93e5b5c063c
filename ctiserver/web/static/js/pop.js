// The screen-pop card: who is calling, the contact (or "unknown" + create link), past contacts, the IVR path
// and what the caller entered, the queue and the wait so far, and "open in CRM".
import { duration, lang, t } from "./i18n.js";
import { el } from "./shell.js";

function when(ts) {
  if (!ts) return "";
  return new Date(ts * 1000).toLocaleString(lang);
}

export function renderPop(card, pop) {
  card.innerHTML = "";
  card.classList.remove("hidden");
  card.classList.toggle("answered", pop.phase === "answered");
  card.dataset.callId = pop.call_id || "";
  const caller = pop.caller || {};
  const contact = pop.contact;
  card.append(
    el("h2", {}, pop.phase === "answered" ? t("pop.onCall") : t("pop.ringing")),
    el("div", { class: "caller", id: "pop-caller" }, caller.name || contact?.name || caller.number || t("pop.anonymous")),
    el("div", { class: "muted", id: "pop-number" }, caller.e164 || caller.number || ""),
  );
  if (contact) {
    card.append(el("div", { class: "contact", id: "pop-contact" },
      contact.name, contact.company ? ` · ${contact.company}` : "", " ",
      contact.vip ? el("span", { class: "vip" }, "VIP") : null));
    if (contact.tags?.length) card.append(el("div", { class: "row" }, contact.tags.map((tag) => el("span", { class: "tag" }, tag))));
    if (contact.notes) card.append(el("p", { class: "muted" }, contact.notes));
  } else {
    card.append(el("div", { class: "contact", id: "pop-contact" }, pop.lookup_error ? t("pop.crmDown") : t("pop.unknown")));
  }
  const facts = el("dl", {});
  const add = (k, v) => { if (v !== undefined && v !== null && v !== "") facts.append(el("dt", {}, t(k)), el("dd", {}, v)); };
  add("pop.queue", pop.queue);
  add("pop.wait", pop.wait_seconds !== undefined ? duration(pop.wait_seconds) : "");
  const ivr = pop.ivr || {};
  add("pop.ivrPath", (ivr.path || []).join(" → "));
  // a dialler call AMD took for a machine, offered to check it (the AMD audit): the disposition says who it was
  const { amd_audit: audit, ...fields } = (ivr.variables || {}).fields || {};
  for (const [k, v] of Object.entries(ivr.variables || {})) {
    if (k === "ivr_path" || v === null || v === undefined || v === "") continue;  // the path is shown above
    const shown = k === "fields" ? fields : v;
    add(k, typeof shown === "object" ? JSON.stringify(shown) : String(shown));
  }
  if (audit) card.append(el("p", { class: "warn", id: "pop-amd-audit" }, t("pop.amdAudit")));
  card.append(facts);
  const links = el("div", { class: "row" });
  if (pop.crm_url) links.append(el("a", { href: pop.crm_url, target: "_blank", rel: "noopener", id: "pop-crm" }, t("pop.openCrm")));
  if (pop.create_url) links.append(el("a", { href: pop.create_url, target: "_blank", rel: "noopener" }, t("pop.createContact")));
  if (links.childNodes.length) card.append(links);
  const history = pop.history || [];
  card.append(el("h2", { style: "margin-top:10px" }, t("pop.history")));
  if (!history.length) {
    card.append(el("p", { class: "muted" }, t("pop.firstCall")));
  } else {
    const rows = history.slice(0, 5).map((h) => el("tr", {},
      el("td", {}, when(h.started_at)), el("td", {}, h.queue || ""), el("td", {}, h.agent || ""),
      el("td", {}, h.disposition || h.outcome || ""), el("td", {}, h.notes || "")));
    card.append(el("table", {}, el("tbody", {}, rows)));
  }
}
