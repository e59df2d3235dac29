"""/docs renders from local files: no CDN, no page errors, every route listed."""

import pytest

pytestmark = pytest.mark.browser


def test_docs_page_works_offline(live_server, page):
    page.goto(live_server + "/docs")
    page.wait_for_selector("text=/api/mnist/classify")
    for route in ("/api/surfaces", "/api/surfaces/{name}/grid", "/api/mnist/dataset"):
        assert page.locator(f"text={route}").count() >= 1
