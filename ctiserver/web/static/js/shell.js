// What every page shares: the header (navigation, language, live badge, sign-out), the sign-in guard, toasts.
import { api, clearToken, getToken } from "./api.js";
import { initI18n, languageSelect, t } from "./i18n.js";

const PAGES = [
  { href: "agent.html", key: "nav.agent", roles: ["agent", "supervisor", "admin"] },
  { href: "wallboard.html", key: "nav.wallboard", roles: ["supervisor", "admin"] },
  { href: "admin.html", key: "nav.admin", roles: ["admin"] },
];

export async function startPage(page) {
  await initI18n();
  if (!getToken()) {
    location.replace(`index.html?next=${encodeURIComponent(page)}`);
    return null;
  }
  let me;
  try {
    me = await api.get("/me");
  } catch (err) {
    if (err.status === 401) { clearToken(); location.replace(`index.html?next=${encodeURIComponent(page)}&expired=1`); return null; }
    me = { role: "unknown" };
  }
  renderHeader(page, me);
  return me;
}

function renderHeader(page, me) {
  const header = document.querySelector("header.top");
  header.innerHTML = `
    <span class="brand">ctiserver</span>
    <nav></nav>
    <span class="spacer"></span>
    <span class="badge connecting" id="live-badge" data-i18n="live.connecting">${t("live.connecting")}</span>
    <span class="muted" id="who"></span>
    <select id="lang" aria-label="language"></select>
    <button id="signout" data-i18n="nav.signout">${t("nav.signout")}</button>`;
  const nav = header.querySelector("nav");
  for (const p of PAGES) {
    if (me.role !== "unknown" && !p.roles.includes(me.role)) continue;
    const a = document.createElement("a");
    a.href = p.href;
    a.dataset.i18n = p.key;
    a.textContent = t(p.key);
    if (p.href === page) a.className = "active";
    nav.appendChild(a);
  }
  header.querySelector("#who").textContent = me.agent ? `${me.role} · ${me.agent}` : me.role;
  languageSelect(header.querySelector("#lang"));
  header.querySelector("#signout").addEventListener("click", () => { clearToken(); location.href = "index.html"; });
}

export function liveBadge(state) {
  const el = document.getElementById("live-badge");
  if (!el) return;
  el.className = `badge ${state}`;
  el.dataset.i18n = `live.${state}`;
  el.textContent = t(`live.${state}`);
}

let toastTimer = null;
export function toast(message, bad = false) {
  let el = document.querySelector(".toast");
  if (!el) { el = document.createElement("div"); document.body.appendChild(el); }
  el.className = `toast${bad ? " bad" : ""}`;
  el.textContent = message;
  el.setAttribute("role", "status");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.remove(), bad ? 6000 : 3000);
}

export function errorText(err) {
  if (!err) return "";
  const field = err.field ? ` (${err.field})` : "";
  return `${t("error.prefix")}: ${err.message || err.code}${field}`;
}

// run an API action, report failure as a toast, never throw into the event handler
export async function act(fn, okMessage) {
  try {
    const out = await fn();
    if (okMessage) toast(okMessage);
    return out;
  } catch (err) {
    toast(errorText(err), true);
    return undefined;
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c.nodeType ? c : String(c));
  return node;
}
