"""The playground in a real browser (`make playground-check`): headless Chromium on /playground of
the local gateway signs in, chats with answers that grow as they stream, stops one, regenerates
and switches versions, calls a tool, uploads a PDF until it is ready, asks it a question with
citations, rates an answer and shows an admin the usage chart, using only the page's controls by
their accessible names. A screenshot of each state goes to the folder the run prints."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.template import ROOT
from local.token import mint
from tests.conftest import LocalStack
from tests.doubles import documents
from tests.doubles.mcp_servers import McpTestServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("PLAYGROUND_SCREENSHOTS", ROOT / ".local" / "playground-screenshots"))
HANDBOOK = [
    "Parley handbook. Page one is about travel: book trains for trips under four hours.",
    "Page two is about expenses: receipts are needed above twenty-five euros.",
    "Page three is about leave: parental leave lasts sixteen weeks, fully paid.",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nplayground screenshots: {SHOTS}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
            headless=True,
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("OFFLINE_STREAM_DELAY_MS", "60")  # an answer takes a few seconds to stream
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    opened.goto(f"{local_stack.url}/playground")
    try:
        yield opened
    finally:
        context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, *, admin: bool = True, brand: str = "acme") -> str:
    user = f"pg-{uuid.uuid4().hex[:8]}"
    page.get_by_label("User id", exact=True).fill(user)
    page.get_by_label("Brands", exact=True).fill(brand)
    if not admin:
        page.get_by_label("admin", exact=True).uncheck()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="New chat").and_(page.locator(":enabled")).wait_for()
    return user


def box(page: Any) -> Any:
    return page.get_by_role("textbox", name="Message", exact=True)


def ask(page: Any, text: str) -> None:
    box(page).fill(text)
    box(page).press("Enter")


def answers(page: Any) -> Any:
    return page.get_by_role("log", name="Conversation").locator("article.assistant")


def wait_answered(page: Any, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('article.assistant').length === n"
        " && !document.querySelector('[aria-busy]') && !document.querySelector('article.streaming')",
        arg=count,
    )
    page.get_by_role("button", name="Regenerate").nth(count - 1).wait_for()


def test_a_signed_in_user_sees_an_answer_grow_as_it_streams_and_can_stop_one(page: Any) -> None:
    shot(page, "01-sign-in")
    sign_in(page)
    log = page.get_by_role("log", name="Conversation")
    assert log.get_attribute("aria-live") == "polite"
    box(page).fill("first line")
    box(page).press("Shift+Enter")  # a new line, not a send
    box(page).type("second line about Lisbon in May")
    assert "\n" in box(page).input_value()

    box(page).press("Enter")
    streaming = page.locator("article.assistant.streaming .content")
    page.wait_for_function(
        "() => (document.querySelector('article.streaming .content')?.textContent || '').length > 10"
    )
    early = streaming.inner_text()
    shot(page, "02-streaming")
    page.wait_for_function(
        "n => (document.querySelector('article.streaming .content')?.textContent || '').length > n",
        arg=len(early),
    )
    assert page.locator("article.streaming").count() == 1  # it grew before it was complete
    wait_answered(page, 1)
    stored = answers(page).first.locator(".content").inner_text()
    assert stored.startswith(early) and len(stored) > len(early)
    assert page.get_by_role("heading", level=2).inner_text() != "No conversation yet"
    shot(page, "03-answered")

    ask(page, "Tell me more about the trams of Lisbon and its hills")
    page.wait_for_function(
        "() => (document.querySelector('article.streaming .content')?.textContent || '').length > 5"
    )
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped. Parley still finishes").wait_for()
    shot(page, "04-stopped")
    wait_answered(page, 2)  # as the API documents: the answer is stored all the same
    assert "trams of Lisbon" in answers(page).nth(1).inner_text()


def test_regenerate_and_edit_make_versions_and_the_first_comes_back(page: Any) -> None:
    sign_in(page)
    ask(page, "Where should I go in May?")
    wait_answered(page, 1)

    page.get_by_role("button", name="Regenerate").click()
    page.get_by_label("Version 2 of 2").wait_for()
    shot(page, "05-regenerated")
    page.get_by_role("button", name="Previous version").click()
    page.get_by_label("Version 1 of 2").wait_for()
    assert page.get_by_role("button", name="Next version").is_enabled()

    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Edited message").fill("Where should I go in June?")
    page.get_by_role("button", name="Save and send").click()

    log = page.get_by_role("log", name="Conversation")
    log.locator("article.user").get_by_label("Version 2 of 2").wait_for()  # the question's two versions
    wait_answered(page, 1)
    assert "June" in log.locator("article.user").inner_text()
    shot(page, "06-edited")


def test_a_tool_call_shows_and_its_result_gets_an_answer(page: Any) -> None:
    sign_in(page)
    page.get_by_label("Offer a weather tool").check()

    ask(page, "What is the weather forecast in Lisbon?")

    page.get_by_text("Tool call: get_weather").wait_for()
    shot(page, "07-tool-call")
    page.get_by_role("button", name="Send result").click()
    page.get_by_text("Offline answer from the tool result").wait_for()


def test_an_answer_is_rated_and_the_rating_shows(page: Any) -> None:
    sign_in(page)
    ask(page, "Where should I go in May?")
    wait_answered(page, 1)

    page.get_by_role("button", name="Thumbs up").click()

    page.locator("[aria-label='Thumbs up'][aria-pressed='true']").wait_for()
    assert page.get_by_role("button", name="Thumbs down").get_attribute("aria-pressed") == "false"
    shot(page, "08-rated")


def test_a_pdf_uploads_until_ready_and_an_answer_cites_its_page(page: Any) -> None:
    brand = f"pgdocs-{uuid.uuid4().hex[:6]}"
    scope = f"scope-{uuid.uuid4().hex[:6]}"
    sign_in(page, brand=brand)
    page.get_by_role("tab", name="Documents").click()
    page.get_by_label("File", exact=True).set_input_files(
        files=[
            {
                "name": "handbook.pdf",
                "mimeType": "application/pdf",
                "buffer": documents.pdf(HANDBOOK, "Handbook"),
            }
        ]
    )
    page.get_by_label("Scope", exact=True).first.fill(scope)

    page.get_by_role("button", name="Upload").click()

    page.get_by_text("handbook.pdf: ready").wait_for(timeout=60_000)
    assert page.get_by_label("Upload progress").get_attribute("value") == "100"
    page.get_by_role("list").filter(has_text="Handbook").wait_for()
    shot(page, "09-uploaded")
    page.get_by_label("Question", exact=True).fill("How long is parental leave?")
    page.get_by_label("Scope", exact=True).nth(1).fill(scope)
    page.get_by_role("button", name="Ask").click()
    citation = page.get_by_role("list", name="Citations").get_by_role("link").first
    citation.wait_for()
    assert "Handbook, page 3" in citation.inner_text()
    citation.click()
    assert "sixteen weeks" in page.locator(".chunks li:target").inner_text()
    shot(page, "10-cited-answer")

    page.get_by_role("button", name="Delete Handbook").click()
    page.get_by_text("No documents yet.").wait_for()


def test_an_assistant_of_the_brand_answers_from_the_model_picker_in_a_stored_chat(
    page: Any, local_stack: LocalStack
) -> None:
    brand = f"pgast-{uuid.uuid4().hex[:6]}"
    admin = {"Authorization": f"Bearer {mint('pg-admin', [brand])}"}
    made = httpx.post(
        f"{local_stack.url}/v1/ai/assistants",
        json={"brand_id": brand, "name": "Guide", "system_prompt": "You guide travellers."},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    model = f"assistant:{made.json()['assistant']['assistant_id']}"
    sign_in(page, brand=brand)

    page.get_by_label("Model", exact=True).select_option(model)
    page.get_by_role("button", name="New chat").click()
    ask(page, "Where should I go in May?")

    wait_answered(page, 1)
    assert "Where should I go in May?" in answers(page).first.inner_text()
    page.reload()  # stored: a conversation bound to the assistant, read back after a reload
    page.locator("#conversation-list li button.open").first.click()
    page.get_by_role("log", name="Conversation").get_by_text("Where should I go in May?").first.wait_for()


def test_a_tool_call_waits_for_the_users_approval_and_runs_once_approved(
    page: Any, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = McpTestServer().start()
    try:
        monkeypatch.setenv("MCP_ALLOW_HOSTS", server.host)
        brand = f"pgok-{uuid.uuid4().hex[:6]}"
        admin = {"Authorization": f"Bearer {mint('pg-admin', [brand])}"}
        orders = {
            "type": "mcp",
            "server_label": "orders",
            "server_url": server.url,
            "allowed_tools": ["lookup_order"],
        }  # approval for every call: the default
        made = httpx.post(
            f"{local_stack.url}/v1/ai/assistants",
            json={
                "brand_id": brand,
                "name": "Orders desk",
                "system_prompt": "You track orders.",
                "tools": [orders],
            },
            headers=admin,
            timeout=30,
        )
        assert made.status_code == 201, made.text
        sign_in(page, brand=brand)
        page.get_by_label("Model", exact=True).select_option(
            f"assistant:{made.json()['assistant']['assistant_id']}"
        )
        page.get_by_role("button", name="New chat").click()
        ask(page, "Look up order Q1")

        asking = page.get_by_role("group", name="Approval of lookup_order")
        asking.get_by_role("button", name="Approve").wait_for()
        assert server.calls == []
        shot(page, "12-approval")
        asking.get_by_role("button", name="Approve").click()

        run = page.locator("details.tool-run")
        run.locator("summary").get_by_text("Ran orders · lookup_order").wait_for()
        assert [name for name, _ in server.calls] == ["lookup_order"]
        assert "shipped" in answers(page).last.locator(".content").inner_text()
        assert page.get_by_role("button", name="Approve").count() == 0  # answered: no longer asked
    finally:
        server.stop()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_model_picker_shows_assistant_names_within_its_column(
    browser: Any, local_stack: LocalStack, width: int
) -> None:
    brand = f"pglay-{uuid.uuid4().hex[:6]}"
    admin = {"Authorization": f"Bearer {mint('pg-admin', [brand])}"}
    long_name = "Travel guide for the long weekends of the spring and the summer holidays"
    made = httpx.post(
        f"{local_stack.url}/v1/ai/assistants",
        json={"brand_id": brand, "name": long_name, "system_prompt": "You guide travellers."},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{local_stack.url}/playground")
        sign_in(page, brand=brand)
        picker = page.get_by_label("Model", exact=True)
        shot(page, f"09-model-picker-{width}")

        labels = picker.locator("option").all_inner_texts()
        column = page.locator(".conversations").bounding_box()
        chosen = picker.bounding_box()
        heading = page.locator("#conversation-title").bounding_box()
        sideways = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
    finally:
        context.close()

    assert long_name in labels and not any(label.startswith("assistant:") for label in labels)
    assert (
        chosen["x"] >= column["x"] - 1 and chosen["x"] + chosen["width"] <= column["x"] + column["width"] + 1
    )
    assert sideways <= 0
    if width >= 1280:  # side by side: the picker never reaches over the chat's heading
        assert chosen["x"] + chosen["width"] <= heading["x"]


def test_a_message_sent_right_after_new_chat_goes_to_that_one_conversation_and_grows(page: Any) -> None:
    """On a cold page: New chat, then Enter at once. One conversation is made, and the answer
    grows in view (no late read of an older view draws over it)."""
    sign_in(page)
    page.get_by_role("button", name="New chat").click()
    ask(page, "A week in Porto in May: where should I stay?")

    page.wait_for_function(
        "() => (document.querySelector('article.streaming .content')?.textContent || '').length > 10"
    )
    early = page.locator("article.assistant.streaming .content").inner_text()
    wait_answered(page, 1)
    final = answers(page).first.locator(".content").inner_text()
    listed = page.locator("#conversation-list li")

    assert early != final and final.startswith(early)
    assert listed.count() == 1


def test_an_admin_sees_the_usage_chart_and_a_user_does_not_see_the_tab(page: Any, browser: Any) -> None:
    brand = f"pgusage-{uuid.uuid4().hex[:6]}"
    sign_in(page, brand=brand)
    ask(page, "Where should I go in May?")
    wait_answered(page, 1)

    page.get_by_role("tab", name="Usage").click()
    page.get_by_role("button", name="Show usage").click()

    chart = page.get_by_role("img", name=f"Tokens per day for {brand}")
    chart.wait_for()
    assert chart.locator("rect").count() >= 1
    assert "parley-offline" in page.get_by_role("table").inner_text()
    shot(page, "11-usage")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, admin=False)
    assert page.get_by_role("tab", name="Usage").is_hidden()


def test_the_tools_parley_ran_for_an_answer_show_under_it(
    page: Any, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = McpTestServer().start()
    try:
        monkeypatch.setenv("MCP_ALLOW_HOSTS", server.host)
        user = sign_in(page)
        caller = {"Authorization": f"Bearer {mint(user, ['acme'])}"}
        created = httpx.post(
            f"{local_stack.url}/v1/conversations", json={"title": "Orders"}, headers=caller, timeout=30
        )
        conversation_id = created.json()["conversation"]["id"]
        orders = {
            "type": "mcp",
            "server_label": "orders",
            "server_url": server.url,
            "allowed_tools": ["lookup_order"],
            "require_approval": "never",
        }
        asked = httpx.post(
            f"{local_stack.url}/v1/conversations/{conversation_id}/messages",
            json={
                "role": "user",
                "content": "Look up order P7",
                "mode": "chat-completion",
                "tools": [orders],
            },
            headers=caller,
            timeout=30,
        )
        assert asked.status_code == 200, asked.text

        page.reload()
        page.get_by_role("button", name="Orders", exact=True).click()

        run = page.locator("details.tool-run")
        run.locator("summary").get_by_text("Ran orders · lookup_order").wait_for()
        run.locator("summary").click()
        assert "shipped" in run.locator("pre").inner_text()
        shot(page, "11-tool-run")
    finally:
        server.stop()
