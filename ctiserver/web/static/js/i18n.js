// Localisation: en / ru / uk / pl. The browser's language by default, switchable, remembered per browser.
export const LANGS = ["en", "ru", "uk", "pl"];
const KEY = "ctiserver.lang";
let dict = {};
let fallback = {};
export let lang = "en";

export function pickLanguage(stored = localStorage.getItem(KEY), browser = navigator.languages || [navigator.language]) {
  if (stored && LANGS.includes(stored)) return stored;
  for (const tag of browser) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

async function load(code) {
  const res = await fetch(new URL(`../i18n/${code}.json`, import.meta.url));
  if (!res.ok) throw new Error(`i18n ${code}: HTTP ${res.status}`);
  return res.json();
}

export async function initI18n() {
  lang = pickLanguage();
  fallback = await load("en");
  dict = lang === "en" ? fallback : await load(lang).catch(() => fallback);
  document.documentElement.lang = lang;
  apply(document);
}

export async function setLanguage(code) {
  if (!LANGS.includes(code)) return;
  localStorage.setItem(KEY, code);
  lang = code;
  dict = code === "en" ? fallback : await load(code);
  document.documentElement.lang = code;
  apply(document);
  document.dispatchEvent(new CustomEvent("languagechange", { detail: code }));
}

// t("agent.waited", {s: 12}) -> "waited 12 s"; unknown keys fall back to English, then to the key itself.
export function t(key, vars = {}) {
  const found = dict[key] ?? fallback[key] ?? key;
  const text = typeof found === "object" ? plural(found, vars) : found;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// A text with plural forms: {"by": "n", "one": "{n} call", "few": …, "many": …, "other": "{n} calls"} — the form the
// language's plural rules (CLDR, Intl.PluralRules) give the number vars[by]: 1 звонок, 3 звонка, 5 звонков.
function plural(forms, vars) {
  const category = new Intl.PluralRules(lang).select(Number(vars[forms.by] ?? 0));
  return forms[category] ?? forms.other;
}

export function apply(root) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  root.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = t(el.dataset.i18nTitle); });
}

export function languageSelect(select) {
  select.innerHTML = "";
  for (const code of LANGS) {
    const opt = document.createElement("option");
    opt.value = code;
    opt.textContent = { en: "English", ru: "Русский", uk: "Українська", pl: "Polski" }[code];
    select.appendChild(opt);
  }
  select.value = lang;
  select.addEventListener("change", () => setLanguage(select.value));
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const mm = String(m % 60).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}

export function percent(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  const v = Number(value);
  return `${Math.round(v <= 1 ? v * 100 : v)}%`;
}
