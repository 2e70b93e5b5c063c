// REST client of the ctiserver API (/api/...), bearer token from the sign-in page (kept in sessionStorage).
const TOKEN = "ctiserver.token";

export function getToken() { return sessionStorage.getItem(TOKEN) || ""; }
export function setToken(token) { sessionStorage.setItem(TOKEN, token.trim()); }
export function clearToken() { sessionStorage.removeItem(TOKEN); }

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || "";
    this.field = field || "";
  }
}

export const base = new URL("../", import.meta.url);  // the console is served where the API is

export async function request(method, path, body, token = getToken()) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(new URL(`api${path}`, base), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", String(err.message || err));
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!res.ok) {
    const e = (data && (data.error || data)) || {};
    throw new ApiError(res.status, e.code, e.message, e.field);
  }
  return data;
}

export const api = {
  get: (p) => request("GET", p),
  post: (p, b = {}) => request("POST", p, b),
  put: (p, b) => request("PUT", p, b),
  patch: (p, b) => request("PATCH", p, b),
  del: (p) => request("DELETE", p),
};

export function list(data, ...keys) {
  // tolerate {items: [...]}, {agents: [...]}, or a bare list
  if (Array.isArray(data)) return data;
  for (const k of [...keys, "items", "results", "data"]) if (data && Array.isArray(data[k])) return data[k];
  return [];
}
