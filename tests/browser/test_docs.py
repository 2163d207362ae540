"""The API reference in a real browser (`make docs-check`): headless Chromium opens /docs on the
local gateway, finds the operations grouped by area with their descriptions, authorizes with a
token and runs "Try it out" on a route through Swagger UI itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from local.token import mint
from tests.conftest import LocalStack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AREAS = ["Conversations", "Chats", "Workflows", "RAG", "Documents", "Administration"]


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_the_reference_groups_described_operations_and_tries_one_out(
    local_stack: LocalStack, page: Any
) -> None:
    page.goto(f"{local_stack.url}/docs")
    page.wait_for_selector(".opblock-tag")

    tags = [text.split("\n")[0].strip() for text in page.locator(".opblock-tag").all_inner_texts()]
    assert tags == AREAS
    listing = page.locator(
        ".opblock-get", has=page.locator(".opblock-summary-path[data-path='/v1/conversations']")
    )
    assert "newest first" in listing.locator(".opblock-summary-description").inner_text()
    listing.locator(".opblock-summary").first.click()
    assert "a page at a time" in listing.locator(".opblock-description-wrapper").inner_text()

    page.locator(".auth-wrapper button.authorize").click()
    page.locator("input[aria-label='auth-bearer-value']").fill(mint("docs-reader", ["acme"]))
    page.locator(".auth-btn-wrapper button.authorize").first.click()
    page.locator("button.btn-done").first.click()
    listing.locator("button.try-out__btn").click()
    listing.locator("button.execute").click()

    status = listing.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert '"conversations"' in listing.locator(".live-responses-table .microlight").first.inner_text()
