// Admin: the do-not-call lists — the global one and each campaign's. A page of numbers (the next page on demand:
// a registry extract has millions), a number added with its reason, checked (a campaign's check counts the global
// list too, as dialling does), removed. National numbers are read in the list's region by the API.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { act, el, errorText } from "./shell.js";

const $ = (id) => document.getElementById(id);
const PAGE = 100;
let next = null;

function listPath() {
  const name = $("dnc-list").value;
  return name ? `/dialer/campaigns/${encodeURIComponent(name)}/dnc` : "/dialer/dnc";
}

function say(text, bad = false) {
  $("dnc-status").textContent = text;
  $("dnc-status").className = bad ? "bad" : "";
}

function row(number) {
  const remove = async () => {
    const done = await act(() => api.del(`${listPath()}/${encodeURIComponent(number)}`), t("admin.dncRemoved", { number }));
    if (done !== undefined) await show();
  };
  return el("tr", {}, el("td", { class: "dnc-number" }, number),
    el("td", {}, el("button", { class: "bad", "aria-label": `${t("admin.dncRemove")} ${number}`, onclick: remove }, "×")));
}

async function more() {
  const after = next ? `&after=${encodeURIComponent(next)}` : "";
  const page = await api.get(`${listPath()}?limit=${PAGE}${after}`);
  $("dnc-numbers").append(...page.numbers.map(row));
  next = page.next;
  $("dnc-more").hidden = !next;
  $("dnc-empty").hidden = $("dnc-numbers").children.length > 0;
}

async function show() {
  next = null;
  $("dnc-numbers").replaceChildren();
  try {
    await more();
  } catch (err) {
    say(errorText(err), true);
  }
}

async function add(e) {
  e.preventDefault();
  const number = $("dnc-number").value.trim();
  if (!number) return;
  try {
    const out = await api.post(listPath(), { numbers: [number], reason: $("dnc-reason").value.trim() });
    say(t(out.added ? "admin.dncAdded" : "admin.dncAlready", { number: out.numbers[0] }));
    $("dnc-number").value = "";
    await show();
  } catch (err) {
    say(errorText(err), true);
  }
}

async function check() {
  const number = $("dnc-number").value.trim();
  if (!number) return;
  try {
    const out = await api.get(`${listPath()}/${encodeURIComponent(number)}`);
    say(t(out.listed ? "admin.dncListed" : "admin.dncNotListed", { number: out.number }));
  } catch (err) {
    say(errorText(err), true);
  }
}

export async function initDnc() {
  let campaigns;
  try {
    campaigns = await api.get("/dialer/campaigns");
  } catch {
    $("dnc-admin").hidden = true;  // no dialler in this daemon
    return;
  }
  $("dnc-list").replaceChildren(el("option", { value: "" }, t("admin.dncGlobal")),
    ...campaigns.map((c) => el("option", { value: c.name }, c.name)));
  $("dnc-list").addEventListener("change", () => { say(""); show(); });
  $("dnc-form").addEventListener("submit", add);
  $("btn-dnc-check").addEventListener("click", check);
  $("dnc-more").addEventListener("click", () => more().catch((err) => say(errorText(err), true)));
  await show();
}
