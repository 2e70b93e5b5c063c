// Sign-in: check the token against /api/me, then open the page of the token's role (or ?next=).
import { ApiError, clearToken, request, setToken } from "./api.js";
import { initI18n, languageSelect, t } from "./i18n.js";

const HOME = { agent: "agent.html", supervisor: "wallboard.html", admin: "admin.html", crm: "wallboard.html" };

async function signIn(token) {
  const errorEl = document.getElementById("signin-error");
  errorEl.textContent = "";
  try {
    const me = await request("GET", "/me", undefined, token);
    setToken(token);
    const next = new URLSearchParams(location.search).get("next");
    location.href = next && /^[a-z]+\.html$/.test(next) ? next : HOME[me.role] || "agent.html";
  } catch (err) {
    clearToken();
    errorEl.textContent = err instanceof ApiError && (err.status === 401 || err.status === 403)
      ? t("signin.bad") : `${t("error.prefix")}: ${err.message}`;
  }
}

await initI18n();
languageSelect(document.getElementById("lang"));
if (new URLSearchParams(location.search).get("expired")) document.getElementById("signin-error").textContent = t("signin.expired");
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  history.replaceState(null, "", location.pathname + location.search);  // keep the token out of history
  await signIn(fromLink);
}
document.getElementById("signin").addEventListener("submit", (e) => {
  e.preventDefault();
  signIn(document.getElementById("token").value.trim());
});
