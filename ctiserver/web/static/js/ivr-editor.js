// The IVR script editor: line-numbered source, validation as you type (messages with line:column, the gutter
// marks the lines), the Mermaid flow diagram beside it, and save = hot reload (refused while invalid).
import { api, list } from "./api.js";
import { t } from "./i18n.js";
import { act, el, errorText, toast } from "./shell.js";

const $ = (id) => document.getElementById(id);
let current = { name: "", version: null };
let lastProblems = [];
let debounce = null;
let seq = 0;
let renderSeq = 0;
let openSeq = 0;

export async function initEditor() {
  window.mermaid?.initialize({ startOnLoad: false, securityLevel: "strict", flowchart: { htmlLabels: false } });
  $("source").addEventListener("input", () => { gutter(); clearTimeout(debounce); debounce = setTimeout(validate, 300); });
  $("source").addEventListener("scroll", () => { $("gutter").scrollTop = $("source").scrollTop; });
  $("script-list").addEventListener("change", () => open($("script-list").value));
  $("btn-save").addEventListener("click", save);
  await loadList();
}

async function loadList(select) {
  const scripts = list(await api.get("/ivr/scripts").catch(() => null), "scripts");
  const names = scripts.map((s) => (typeof s === "string" ? s : s.name));
  $("script-list").replaceChildren(...names.map((n) => el("option", { value: n }, n)));
  const name = select || names[0];
  if (name) { $("script-list").value = name; await open(name); }
}

async function open(name) {
  const mine = ++openSeq;
  const script = await act(() => api.get(`/ivr/scripts/${encodeURIComponent(name)}`));
  // the admin picked another script while this one was on its way: a late answer must not overwrite it
  if (!script || mine !== openSeq) return;
  current = { name, version: script.version ?? null };
  $("script-name").value = name;
  $("source").value = script.source ?? "";
  $("version").textContent = script.version !== undefined ? `${t("admin.version")} ${script.version}` : "";
  gutter();
  await validate();
}

function gutter() {
  const lines = $("source").value.split("\n").length;
  const bad = new Set(lastProblems.map((p) => p.line));
  $("gutter").replaceChildren(...Array.from({ length: lines }, (_, i) =>
    el("div", { class: bad.has(i + 1) ? "err" : "" }, String(i + 1))));
  $("gutter").scrollTop = $("source").scrollTop;
}

export async function validate() {
  const mine = ++seq;
  let out;
  try {
    out = await api.post("/ivr/validate", { source: $("source").value });
  } catch (err) {
    if (err.status === 422 && err.problems) out = err;
    else { $("validity").textContent = errorText(err); return null; }
  }
  if (mine !== seq) return null;  // a newer keystroke already asked
  lastProblems = list(out, "problems", "errors", "diagnostics");
  showProblems();
  if (!lastProblems.length) {
    const graph = await api.post("/ivr/graph", { source: $("source").value }).catch(() => null);
    if (mine === seq) await diagram(graph?.mermaid || out.mermaid);
  }
  return lastProblems;
}

function showProblems() {
  const ok = lastProblems.length === 0;
  $("validity").className = ok ? "valid" : "error";
  $("validity").textContent = ok ? t("admin.valid") : t("admin.problems", { n: lastProblems.length });
  $("problems").replaceChildren(...lastProblems.map((p) => el("li", { onclick: () => goTo(p.line, p.column) },
    `${p.line ?? "?"}:${p.column ?? "?"}  ${p.message}${p.path ? `  (${p.path})` : ""}`)));
  gutter();
}

function goTo(line, column = 1) {
  const src = $("source");
  const lines = src.value.split("\n");
  let pos = 0;
  for (let i = 0; i < (line || 1) - 1 && i < lines.length; i++) pos += lines[i].length + 1;
  pos += Math.max(0, (column || 1) - 1);
  src.focus();
  src.setSelectionRange(pos, pos);
}

async function diagram(text) {
  const box = $("diagram");
  if (!text) { box.replaceChildren(el("p", { class: "muted" }, t("admin.noDiagram"))); return; }
  if (!window.mermaid) { box.replaceChildren(el("pre", {}, text)); return; }
  try {
    const { svg } = await window.mermaid.render(`ivr-graph-${++renderSeq}`, text);
    box.innerHTML = svg;
  } catch (err) {
    box.replaceChildren(el("pre", {}, text));
  }
}

async function save() {
  const name = ($("script-name").value || current.name).trim();
  if (!name) { toast(t("admin.needName"), true); return; }
  const problems = await validate();
  if (problems && problems.length) { toast(t("admin.notSaved"), true); return; }
  try {
    const out = await api.put(`/ivr/scripts/${encodeURIComponent(name)}`, { source: $("source").value });
    current = { name, version: out?.version ?? null };
    $("version").textContent = out?.version !== undefined ? `${t("admin.version")} ${out.version}` : "";
    // a new script joins the list before the toast says it is live
    if (![...$("script-list").options].some((o) => o.value === name)) await loadList(name);
    toast(t("admin.reloaded", { name, version: out?.version ?? "" }));
  } catch (err) {
    if (err.problems) { lastProblems = err.problems; showProblems(); }
    toast(`${t("admin.notSaved")} ${errorText(err)}`, true);
  }
}
