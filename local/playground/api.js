// Parley's public API from the browser: JSON requests with the signed-in token, and answers
// streamed as server-sent events read from a fetch body as they arrive.

let token = sessionStorage.getItem("parley.token") || "";

export function signedIn() {
  return token !== "";
}

export function setToken(value) {
  token = value;
  if (value) sessionStorage.setItem("parley.token", value);
  else sessionStorage.removeItem("parley.token");
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error;
  }
}

export function headers(extra = {}) {
  return { "Content-Type": "application/json", Authorization: `Bearer ${token}`, ...extra };
}

export async function call(method, path, body, options = {}) {
  const response = await fetch(path, {
    method,
    headers: headers(),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: options.signal,
  });
  if (response.status === 204) return null;
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

/** POST `body` asking for a stream; `onEvent(name, data)` for each event; resolves with the
 * `done` event's data. An error before the stream is an ApiError; an `error` event too. */
export async function stream(path, body, onEvent, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ Accept: "text/event-stream" }),
    body: JSON.stringify({ ...body, stream: true }),
    signal,
  });
  if (!response.ok) {
    const text = await response.text();
    throw new ApiError(response.status, text ? JSON.parse(text) : null);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let done = null;
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += decoder.decode(value, { stream: true });
    let boundary;
    while ((boundary = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (!data.length) continue;
      const parsed = JSON.parse(data.join("\n"));
      if (name === "error") throw new ApiError(502, parsed);
      if (name === "done") done = parsed;
      onEvent(name, parsed);
    }
  }
  return done;
}
