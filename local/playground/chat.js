// The Chat tab: the caller's conversations, and one conversation's active branch with streamed
// answers, stop, regenerate, edit, versions ("< 2/3 >"), tool calls and feedback.
import { ApiError, call, get, post, stream } from "./api.js";
import { el, say } from "./dom.js";

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather forecast in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

// `navigation` counts what the user asked to see (a conversation opened, a message sent): a
// response that arrives after a newer request is dropped, never drawn over the newer view.
// `creating` is the conversation New chat is making, which a send waits for.
const state = { conversation: null, messages: [], cursor: null, controller: null, navigation: 0, creating: null };
const $ = (id) => document.getElementById(id);

export async function startChat(principal) {
  const brand = $("brand");
  brand.replaceChildren(el("option", { value: "" }, "(no brand)"), ...principal.brands.map((b) => el("option", { value: b }, b)));
  if (principal.brands.length) brand.value = principal.brands[0];
  await loadModels();
  await loadConversations(true);
}

async function loadModels() {
  const select = $("model");
  const assistants = $("assistant");
  try {
    const cards = (await get("/v1/models")).data;
    // GET /v1/models lists the embedder too (OpenAI's list does): it cannot chat
    const plain = cards.filter((m) => !m.id.startsWith("assistant:") && !/embed|minilm/i.test(m.id)).map((m) => m.id);
    const helpers = cards.filter((m) => m.id.startsWith("assistant:"));
    const label = (m) => m.name || `Assistant ${m.id.slice(10, 18)}`;
    select.replaceChildren(
      el("optgroup", { label: "Models" }, ...plain.map((id) => el("option", { value: id }, id))),
      el("optgroup", { label: "Assistants" }, ...helpers.map((m) => el("option", { value: m.id }, label(m)))),
    );
    select.value = plain.includes("parley-offline") ? "parley-offline" : plain[0];
    assistants.replaceChildren(el("option", { value: "" }, "(none)"), ...helpers.map((m) => el("option", { value: m.id.slice(10) }, label(m))));
    $("new-chat").disabled = false;
  } catch (error) {
    say("chat-status", `Models: ${error.message}`);
  }
}

async function loadConversations(fresh) {
  if (fresh) state.cursor = null;
  const query = new URLSearchParams({ limit: "20", ...(state.cursor ? { cursor: state.cursor } : {}) });
  try {
    const page = await get(`/v1/conversations?${query}`);
    const list = $("conversation-list");
    if (fresh) list.replaceChildren();
    for (const summary of page.conversations) list.append(conversationItem(summary));
    markCurrent();
    state.cursor = page.next_cursor;
    $("more-conversations").hidden = !page.next_cursor;
  } catch (error) {
    say("chat-status", `Conversations: ${error.message}`);
  }
}

function conversationItem(summary) {
  const name = summary.title || "Untitled conversation";
  const open = el("button", { type: "button", class: "open", onclick: () => openConversation(summary.id) }, name);
  const remove = el("button", { type: "button", class: "delete", "aria-label": `Delete ${name}`, onclick: () => removeConversation(summary.id) }, "Delete");
  return el("li", { "data-id": summary.id, class: summary.id === state.conversation?.id ? "current" : "" }, open, el("small", {}, `${summary.model} · ${summary.created_at.slice(0, 16).replace("T", " ")}`), remove);
}

async function removeConversation(id) {
  await call("DELETE", `/v1/conversations/${id}`);
  if (state.conversation?.id === id) {
    state.conversation = null;
    state.messages = [];
    render();
  }
  say("chat-status", "Conversation deleted.");
  await loadConversations(true);
}

export function newChat() {
  if (!state.creating) state.creating = makeChat().finally(() => { state.creating = null; });
  return state.creating;
}

async function makeChat() {
  const model = $("model").value;
  const brand = $("brand").value;
  // An assistant's chat is a conversation bound to it: its model, prompt, documents and tools.
  const chosen = model.startsWith("assistant:") ? { assistant_id: model.slice(10) } : { model };
  const body = { ...chosen, ...(brand ? { brand_id: brand } : {}) };
  const { conversation } = await post("/v1/conversations", body);
  state.navigation += 1;
  state.conversation = conversation;  // new: nothing to read yet
  state.messages = [];
  render();
  await loadConversations(true);
  $("message").focus();
}

async function openConversation(id) {
  const navigation = ++state.navigation;
  const { conversation } = await get(`/v1/conversations/${id}`);
  const history = await get(`/v1/conversations/${id}/messages?limit=200`);
  if (navigation !== state.navigation) return;  // the user has moved on: not this view any more
  state.conversation = conversation;
  state.messages = history.messages;
  render();
  markCurrent();
}

function markCurrent() {
  for (const item of $("conversation-list").children) item.classList.toggle("current", item.dataset.id === state.conversation?.id);
}

async function reload() {
  if (state.conversation?.id) await openConversation(state.conversation.id);
}

function render() {
  const conversation = state.conversation;
  $("conversation-title").textContent = conversation ? conversation.title || "Untitled conversation" : "No conversation yet";
  const summary = $("summary");
  summary.hidden = !conversation?.summary;
  summary.textContent = conversation?.summary ? `Summary of the earlier turns: ${conversation.summary.content}` : "";
  $("log").replaceChildren(...state.messages.map(messageView));
}

function messageView(message) {
  const article = el("article", { class: `message ${message.role}`, "data-id": message.id || "", "aria-label": `${message.role} message` });
  article.append(el("header", {}, el("strong", {}, message.role), message.metadata?.model ? el("small", {}, ` ${message.metadata.model}`) : ""));
  const body = el("p", { class: "content" }, message.content || "");
  article.append(body);
  const last = message === state.messages[state.messages.length - 1];
  for (const call_ of message.tool_calls || []) {
    if (call_.type === "mcp_approval_request") {
      article.append(approvalView(call_, Boolean(message.id && last)));
      continue;
    }
    article.append(el("p", { class: "tool-call" }, `Tool call: ${call_.function?.name}(${call_.function?.arguments || ""})`));
    if (message.id && state.conversation?.id) article.append(toolResultForm(call_));
  }
  for (const run of message.metadata?.tool_runs || []) article.append(toolRunView(run));
  if (message.branch && message.branch.count > 1) article.append(versions(message));
  if (message.id && state.conversation?.id && message.role === "assistant") article.append(answerActions(message));
  if (message.id && state.conversation?.id && message.role === "user") article.append(el("div", { class: "actions" }, el("button", { type: "button", onclick: () => edit(article, message) }, "Edit")));
  return article;
}

// A call Parley made to an MCP server's tool for this answer (or a server it could not list).
function toolRunView(run) {
  const failed = run.error !== undefined;
  const call = `${run.server_label} · ${run.name}(${JSON.stringify(run.arguments ?? {})})`;
  return el(
    "details", { class: "tool-run" },
    el("summary", {}, `Ran ${call}${failed ? " - failed" : ""} (${run.duration_ms} ms)`),
    el("pre", {}, String(failed ? run.error : run.output ?? "").slice(0, 4000)),
  );
}

// A call of an MCP server's tool that waits for the user: approve or deny it (the last answer only).
function approvalView(request, open) {
  const decide = (approve) => () => {
    const content = approve ? "Approved." : "Denied.";
    const body = { role: "user", content, mode: "chat-completion", mcp_approval_response: { approval_request_id: request.id, approve } };
    generate(`/v1/conversations/${state.conversation.id}/messages`, body, { role: "user", content });
  };
  return el(
    "div", { class: "approval", role: "group", "aria-label": `Approval of ${request.name}` },
    el("p", {}, `Approval needed: ${request.server_label} · ${request.name}(${request.arguments})`),
    ...(open ? [
      el("button", { type: "button", onclick: decide(true) }, "Approve"),
      el("button", { type: "button", onclick: decide(false) }, "Deny"),
    ] : []),
  );
}

function versions(message) {
  const { index, count, previous_id: previous, next_id: next } = message.branch;
  return el(
    "div", { class: "versions", role: "group", "aria-label": "Versions" },
    el("button", { type: "button", "aria-label": "Previous version", disabled: !previous, onclick: () => switchTo(previous) }, "<"),
    el("span", { "aria-label": `Version ${index} of ${count}` }, `${index}/${count}`),
    el("button", { type: "button", "aria-label": "Next version", disabled: !next, onclick: () => switchTo(next) }, ">"),
  );
}

async function switchTo(messageId) {
  await call("PATCH", `/v1/conversations/${state.conversation.id}`, { active_message_id: messageId });
  await reload();
}

function answerActions(message) {
  const rating = message.feedback?.rating;
  const rate = (value) => async () => {
    const url = `/v1/conversations/${state.conversation.id}/messages/${message.id}/feedback`;
    if (rating === value) await call("DELETE", url);
    else await call("PUT", url, { rating: value });
    await reload();
    say("chat-status", "Thanks for the feedback.");
  };
  return el(
    "div", { class: "actions" },
    el("button", { type: "button", "aria-label": "Thumbs up", "aria-pressed": String(rating === "up"), onclick: rate("up") }, "▲"),
    el("button", { type: "button", "aria-label": "Thumbs down", "aria-pressed": String(rating === "down"), onclick: rate("down") }, "▼"),
    el("button", { type: "button", onclick: () => regenerate(message) }, "Regenerate"),
  );
}

function toolResultForm(toolCall) {
  const input = el("input", { "aria-label": `Result of ${toolCall.function?.name}`, value: '{"forecast": "sunny, 24°C"}' });
  const form = el("form", { class: "tool-result" }, input, el("button", { type: "submit" }, "Send result"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    generate(`/v1/conversations/${state.conversation.id}/messages`, { role: "tool", content: input.value, tool_call_id: toolCall.id, mode: "chat-completion" }, { role: "tool", content: input.value });
  });
  return form;
}

function edit(article, message) {
  const area = el("textarea", { "aria-label": "Edited message", rows: "3" }, message.content);
  area.value = message.content;
  const form = el("form", { class: "edit" }, area, el("button", { type: "submit" }, "Save and send"), el("button", { type: "button", onclick: () => render() }, "Cancel"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const index = state.messages.indexOf(message);
    state.messages = state.messages.slice(0, index);
    generate(`/v1/conversations/${state.conversation.id}/messages`, { role: "user", content: area.value, mode: "chat-completion", parent_id: message.parent_id ?? null }, { role: "user", content: area.value });
  });
  article.replaceChildren(form);
  area.focus();
}

function regenerate(message) {
  const index = state.messages.indexOf(message);
  state.messages = state.messages.slice(0, index);
  generate(`/v1/conversations/${state.conversation.id}/messages/${message.id}/regenerate`, {}, null);
}

export async function send() {
  const box = $("message");
  const content = box.value.trim();
  if (!content || state.controller) return;
  box.value = "";
  if (state.creating) await state.creating;  // New chat was clicked: send in the conversation it makes
  if (!state.conversation) await newChat();  // the first message starts a conversation
  const body = { role: "user", content, mode: "chat-completion", ...($("tools").checked ? { tools: [WEATHER_TOOL] } : {}) };
  return generate(`/v1/conversations/${state.conversation.id}/messages`, body, { role: "user", content });
}

/** Send a generating request, showing the answer as it streams; reload the branch when done. */
async function generate(url, body, shown) {
  state.navigation += 1;  // a history read still on its way belongs to an older view
  const known = new Set(state.messages.map((m) => m.id).filter(Boolean));
  if (shown) state.messages.push(shown);
  const answer = { role: "assistant", content: "", tool_calls: null };
  state.messages.push(answer);
  render();
  const view = $("log").lastElementChild;
  view.setAttribute("aria-busy", "true");
  view.classList.add("streaming");
  const text = view.querySelector(".content");
  startStreaming();
  try {
    await stream(url, body, (name, data) => {
      if (name === "delta" && data.content) {
        answer.content += data.content;
        text.textContent = answer.content;
      } else if (name === "delta" && data.tool_calls) {
        text.textContent = "(calling a tool)";
      } else if (name === "tool_call") {
        text.textContent = `(running ${data.server_label} · ${data.name})`;
      } else if (name === "mcp_approval_request") {
        text.textContent = "(waiting for your approval)";
      }
    }, state.controller.signal);
    await reload();
    say("chat-status", "Answer stored.");
    await loadConversations(true);
  } catch (error) {
    if (error.name === "AbortError") {
      view.classList.remove("streaming");
      view.append(el("p", { class: "stopped" }, "Stopped. Parley still finishes and stores the answer: it shows when the history is read again."));
      say("chat-status", "Stopped.");
      awaitStoredAnswer(known).catch(() => {});
    } else {
      say("chat-status", error instanceof ApiError ? `${error.code || error.status}: ${error.message}` : String(error));
      await reload().catch(() => {});
    }
  } finally {
    view.removeAttribute("aria-busy");
    stopStreaming();
  }
}

/** After a stop: read the branch again until the answer Parley went on to store is on it (an
 * assistant message none of the `known` ids names). */
async function awaitStoredAnswer(known) {
  const id = state.conversation?.id;
  for (let attempt = 0; attempt < 60 && id === state.conversation?.id; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const history = await get(`/v1/conversations/${id}/messages?limit=200`);
    const last = history.messages[history.messages.length - 1];
    if (last?.role === "assistant" && !known.has(last.id) && !state.controller) {
      await reload();
      say("chat-status", "The stopped answer was stored; here it is.");
      return;
    }
  }
}

function startStreaming() {
  state.controller = new AbortController();
  $("stop").disabled = false;
  $("send").disabled = true;
  say("chat-status", "Answering…");
}

function stopStreaming() {
  state.controller = null;
  $("stop").disabled = true;
  $("send").disabled = false;
}

export function stop() {
  if (state.controller) state.controller.abort();
}

export function moreConversations() {
  return loadConversations(false);
}
