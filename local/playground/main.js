// The playground's entry: sign in (a development token from the local gateway), the tabs, and
// the keyboard: Enter sends, Shift+Enter is a new line.
import { setToken, signedIn } from "./api.js";
import { moreConversations, newChat, send, startChat, stop } from "./chat.js";
import { ask, listDocuments, startDocuments, upload } from "./documents.js";
import { say } from "./dom.js";
import { showUsage } from "./usage.js";

const $ = (id) => document.getElementById(id);

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = {
    user_id: form.get("user_id"),
    brands: String(form.get("brands") || "").split(/[\s,]+/).filter(Boolean),
    scopes: form.getAll("scope"),
  };
  const response = await fetch("/playground/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await response.json();
  if (!response.ok) return say("sign-in-error", data.message);
  setToken(data.token);
  sessionStorage.setItem("parley.principal", JSON.stringify(body));
  await enter(body);
}

async function enter(principal) {
  $("sign-in-view").hidden = true;
  $("app-view").hidden = false;
  $("who").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = `${principal.user_id} · ${principal.brands.join(", ") || "no brand"}`;
  const admin = principal.scopes.includes("admin");
  $("tab-usage").hidden = !admin;
  const brands = $("usage-brand");
  brands.replaceChildren(...principal.brands.map((b) => new Option(b, b)));
  startDocuments(principal);
  await startChat(principal);
}

function signOut() {
  setToken("");
  sessionStorage.removeItem("parley.principal");
  document.cookie = "session=; Max-Age=0; Path=/";
  location.reload();
}

function selectTab(tab) {
  for (const other of document.querySelectorAll('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !selected;
  }
  if (tab.id === "tab-documents") listDocuments();
}

function tabKeys(event) {
  const tabs = [...document.querySelectorAll('[role="tab"]:not([hidden])')];
  const at = tabs.indexOf(event.target);
  const next = { ArrowRight: at + 1, ArrowLeft: at - 1 }[event.key];
  if (next === undefined) return;
  const tab = tabs[(next + tabs.length) % tabs.length];
  tab.focus();
  selectTab(tab);
}

function wire() {
  $("sign-in-form").addEventListener("submit", (event) => signIn(event).catch((error) => say("sign-in-error", error.message)));
  $("sign-out").addEventListener("click", signOut);
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", tabKeys);
  }
  $("new-chat").addEventListener("click", () => newChat().catch((error) => say("chat-status", error.message)));
  $("more-conversations").addEventListener("click", moreConversations);
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send().catch((error) => say("chat-status", error.message));
  });
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send().catch((error) => say("chat-status", error.message));
    }
  });
  $("stop").addEventListener("click", stop);
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    upload();
  });
  $("refresh-documents").addEventListener("click", listDocuments);
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  $("usage-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showUsage();
  });
  const saved = sessionStorage.getItem("parley.principal");
  if (signedIn() && saved) enter(JSON.parse(saved));
}

wire();
