// The Documents tab: upload a file through the presigned flow and follow it until it is ready
// (or failed, with the reason), list and delete the brand's documents, and ask them a question.
import { call, get, post } from "./api.js";
import { el, say } from "./dom.js";

const $ = (id) => document.getElementById(id);
let principal = null;
const POLL_MS = 500;

export function startDocuments(signedIn) {
  principal = signedIn;
}

function brand() {
  return document.getElementById("brand").value || principal.brands[0];
}

export async function upload() {
  const file = $("file").files[0];
  const scope = $("upload-scope").value.trim();
  if (!file) return say("upload-status", "Choose a file first.");
  $("upload-state").hidden = false;
  const progress = $("upload-progress");
  progress.value = 5;
  say("upload-status", `Asking where to upload ${file.name}…`);
  try {
    const accepted = await post("/v1/ai/files", {
      brand_id: brand(), rag_scope: scope, filename: file.name, content_type: file.type || "application/octet-stream", size: file.size,
    });
    progress.value = 20;
    say("upload-status", `Uploading ${file.name}…`);
    const put = await fetch(accepted.upload.url, { method: accepted.upload.method, headers: accepted.upload.headers, body: file });
    if (!put.ok) throw new Error(`the upload was refused (${put.status})`);
    progress.value = 50;
    await follow(accepted.document_id, scope, file.name);
  } catch (error) {
    say("upload-status", `Upload failed: ${error.message}`);
  }
}

async function follow(documentId, scope, name) {
  const query = new URLSearchParams({ brand_id: brand(), rag_scope: scope });
  for (;;) {
    const status = await get(`/v1/ai/documents/${encodeURIComponent(documentId)}?${query}`);
    const progress = $("upload-progress");
    if (status.status === "ready") {
      progress.value = 100;
      say("upload-status", `${name}: ready (${status.chunks} chunks${status.pages ? `, ${status.pages} pages` : ""}).`);
      await listDocuments();
      return;
    }
    if (status.status === "failed") {
      say("upload-status", `${name}: failed: ${status.error}`);
      await listDocuments();
      return;
    }
    progress.value = status.status === "processing" ? 75 : 60;
    say("upload-status", `${name}: ${status.status}…`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function listDocuments() {
  const list = $("document-list");
  try {
    const page = await get(`/v1/ai/documents?${new URLSearchParams({ brand_id: brand(), limit: "100" })}`);
    list.replaceChildren(...page.documents.map(documentItem));
    if (!page.documents.length) list.append(el("li", {}, "No documents yet."));
  } catch (error) {
    list.replaceChildren(el("li", {}, `Documents: ${error.message}`));
  }
}

function documentItem(document_) {
  const name = document_.title || document_.filename || document_.document_id;
  const detail = `${document_.rag_scope} · ${document_.status}${document_.error ? `: ${document_.error}` : ""} · ${document_.chunks} chunks`;
  const remove = async () => {
    const query = new URLSearchParams({ brand_id: brand(), rag_scope: document_.rag_scope });
    await call("DELETE", `/v1/ai/documents/${encodeURIComponent(document_.document_id)}?${query}`);
    await listDocuments();
  };
  return el("li", {}, el("span", {}, name), el("small", {}, detail), el("button", { type: "button", "aria-label": `Delete ${name}`, onclick: remove }, "Delete"));
}

export async function ask() {
  const answer = $("answer");
  const assistant = $("assistant").value;
  const body = {
    messages: [{ role: "user", content: $("question").value }],
    brand_id: brand(),
    user_id: principal.user_id,
    top_k: Number($("top-k").value),
    threshold: Number($("threshold").value),
    ...($("ask-scope").value.trim() ? { rag_scope: $("ask-scope").value.trim() } : {}),
    ...(assistant ? { assistant_id: assistant } : {}),
  };
  answer.hidden = false;
  answer.replaceChildren(el("p", {}, "Searching the documents…"));
  try {
    const reply = await post("/v1/ai/chat", body);
    answer.replaceChildren(...answerView(reply));
  } catch (error) {
    answer.replaceChildren(el("p", { class: "error" }, `${error.code || ""} ${error.message}`));
  }
}

function answerView(reply) {
  const text = el("p", { class: "content" });
  // [n] markers become links to the chunk they cite
  for (const part of reply.content.split(/(\[\d+\])/)) {
    const marker = /^\[(\d+)\]$/.exec(part);
    if (marker && reply.rag_context[Number(marker[1]) - 1]) {
      text.append(el("a", { href: `#chunk-${marker[1]}`, class: "citation", "aria-label": `Source ${marker[1]}` }, part));
    } else text.append(part);
  }
  const citations = el("ol", { class: "citations", "aria-label": "Citations" }, ...reply.citations.map((c) => {
    const chunk = reply.rag_context[c.index - 1] || {};
    return el("li", {}, el("a", { href: `#chunk-${c.index}` }, `[${c.index}] ${chunk.title || c.document_id || "source"}${chunk.page ? `, page ${chunk.page}` : ""}`));
  }));
  const context = el("ol", { class: "chunks", "aria-label": "Retrieved chunks" }, ...reply.rag_context.map((chunk, n) =>
    el("li", { id: `chunk-${n + 1}` }, el("strong", {}, `${chunk.title || chunk.id}${chunk.page ? `, page ${chunk.page}` : ""} (score ${chunk.score.toFixed(2)})`), el("p", {}, chunk.content)),
  ));
  return [
    el("h3", {}, "Answer"), text,
    el("h3", {}, "Citations"), reply.citations.length ? citations : el("p", {}, "No citation."),
    el("h3", {}, "Retrieved"), context,
    el("p", { class: "meta" }, `${reply.model} · ${reply.usage.total_tokens} tokens`),
  ];
}
