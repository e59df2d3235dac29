"""The digit lab in Chromium: train, watch the cost fall, draw a digit, classify, save."""

import pytest

pytestmark = pytest.mark.browser
STATE = "window.gdviz.state"


def draw_one(page):
    """A slanted vertical stroke, like a hand-drawn 1, across the drawing pad."""
    box = page.locator("#draw").bounding_box()
    x, y, w = box["x"], box["y"], box["width"]
    page.mouse.move(x + 0.55 * w, y + 0.18 * w)
    page.mouse.down()
    for k in range(1, 21):
        page.mouse.move(x + (0.55 - 0.006 * k) * w, y + (0.18 + 0.032 * k) * w)
    page.mouse.up()


def test_digit_lab_end_to_end(live_server, page, screenshot_dir, mnist):
    page.goto(live_server + "/mnist")
    assert page.locator("#param-count").inner_text() == "13,002"
    assert page.locator("#lr-value").inner_text() == "3"
    page.wait_for_function("document.getElementById('data-source').textContent.includes('train')")
    page.locator("#hidden").fill("32 16")
    assert page.locator("#param-count").inner_text() == "25,818"  # 784·32+32 + 32·16+16 + 16·10+10
    page.locator("#hidden").fill("16 16")

    # with no network anywhere, classifying says so
    draw_one(page)
    status = "document.getElementById('train-status').textContent"
    page.wait_for_function(f"{status}.includes('no network')")

    page.locator("#epochs").fill("4")
    page.click("#train")
    page.wait_for_function("document.getElementById('cost').data.length >= 3")
    page.wait_for_function("document.getElementById('cost').data[0].x.length > 100")
    page.wait_for_function(f"{STATE}.info && {STATE}.info.parameter_count === 13002")
    # the weight images are drawn
    page.wait_for_function("document.querySelectorAll('#weights canvas').length === 16")

    # draw while it trains: the live network answers
    page.click("#clear")
    draw_one(page)
    page.wait_for_function(f"{STATE}.prediction !== null")
    assert page.locator("#prediction").inner_text() in list("0123456789")
    assert page.evaluate("document.getElementById('probabilities').data[0].y.length") == 10
    page.wait_for_function(
        "document.getElementById('train-status').textContent.includes('finished')"
    )
    cost = page.evaluate("document.getElementById('cost').data[1].y")
    assert cost[-1] < cost[0] / 3  # the smoothed cost fell
    page.click("#classify")
    page.wait_for_function(f"{STATE}.prediction.by === 'live'")
    assert page.locator("#prediction").inner_text() == "1"

    # a second run with shuffled labels is drawn beside the first
    page.locator("#shuffle-labels").check()
    page.locator("#epochs").fill("2")
    page.click("#train")
    page.wait_for_function("document.getElementById('cost').data.length === 6")
    page.wait_for_function(
        "document.getElementById('train-status').textContent.includes('finished')"
    )
    names = page.evaluate("document.getElementById('cost').data.map(t => t.name)")
    assert "run 1 (real labels)" in names and "run 2 (shuffled labels)" in names
    page.screenshot(path=str(screenshot_dir / "mnist.png"))

    page.click("#save")
    page.wait_for_function("document.getElementById('train-status').textContent.includes('saved')")

    # clearing the curves mid-training keeps drawing the run that is training
    page.locator("#epochs").fill("200")
    page.click("#train")
    page.wait_for_function("document.getElementById('cost').data.length === 9")
    page.click("#clear-curves")
    page.wait_for_function("document.getElementById('cost').data.length === 3")
    page.wait_for_function("document.getElementById('cost').data[0].x.length > 50")
    page.click("#stop")
    page.wait_for_function(
        "document.getElementById('train-status').textContent.includes('stopped')"
    )
