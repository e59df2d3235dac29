"""/docs renders from local files: no CDN, no page errors, every route listed."""

import pytest

pytestmark = pytest.mark.browser


def test_docs_page_works_offline(live_server, page):
    page.goto(live_server + "/docs")
    page.get_by_text("/api/mnist/classify", exact=True).wait_for()
    for route in ("/api/surfaces", "/api/surfaces/{name}/grid", "/api/mnist/dataset"):
        assert page.get_by_text(route, exact=True).count() >= 1
