// The admin API from the page: same origin, the operator's access token as the bearer. Failures
// become ApiError with the API's PostgREST body (`message`, `details`, `hint`, `code`).
import { accessToken } from "./auth.mjs";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? body?.msg ?? `The admin API answered ${status}`);
    this.status = status;
    this.code = body?.code ?? null;
    this.details = body?.details ?? null;
    this.hint = body?.hint ?? null;
  }
}

export async function api(method, path, { body, idempotencyKey } = {}) {
  const headers = { accept: "application/json" };
  const token = await accessToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { message: `The admin service is unreachable (${e.message})` });
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { message: `The admin service answered ${res.status} with something other than JSON` };
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}
