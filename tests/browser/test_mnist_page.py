"""The digit lab in Chromium: train, watch the cost fall, pause, draw a digit, classify, save."""

import math

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
STATE = "window.gdviz.state"
STATUS = "document.getElementById('train-status').textContent"
QUADRATIC_NOTE = "sigmoid outputs, scaled to sum to 1"


def draw_one(page):
    """A slanted vertical stroke, like a hand-drawn 1, across the drawing pad."""
    box = page.locator("#draw").bounding_box()
    x, y, w = box["x"], box["y"], box["width"]
    page.mouse.move(x + 0.55 * w, y + 0.18 * w)
    page.mouse.down()
    for k in range(1, 21):
        page.mouse.move(x + (0.55 - 0.006 * k) * w, y + (0.18 + 0.032 * k) * w)
    page.mouse.up()


def probabilities_title(page):
    return page.evaluate("document.getElementById('probabilities').layout.title.text")


def test_digit_lab_end_to_end(live_server, page, screenshot_dir, mnist):
    page.goto(live_server + "/mnist")
    assert page.locator("#param-count").inner_text() == "13,002"
    assert page.locator("#lr-value").inner_text() == "3"
    page.wait_for_function("document.getElementById('data-source').textContent.includes('train')")
    page.locator("#hidden").fill("32 16")
    assert page.locator("#param-count").inner_text() == "25,818"  # 784·32+32 + 32·16+16 + 16·10+10
    page.locator("#hidden").fill("16 16")
    expect(page.locator("#pause")).to_be_disabled()
    expect(page.locator("#stop")).to_be_disabled()

    # with no network anywhere, classifying says so
    draw_one(page)
    page.wait_for_function(f"{STATUS}.includes('no network')")

    page.locator("#epochs").fill("4")
    page.click("#train")
    page.wait_for_function("document.getElementById('cost').data.length >= 3")
    page.wait_for_function("document.getElementById('cost').data[0].x.length > 100")
    page.wait_for_function(f"{STATE}.info && {STATE}.info.parameter_count === 13002")
    # the weight images are drawn
    page.wait_for_function("document.querySelectorAll('#weights canvas').length === 16")

    # draw while it trains: the live network answers, its outputs named for the quadratic cost
    page.click("#clear")
    expect(page.locator("#prediction")).to_have_text("?")
    draw_one(page)
    page.wait_for_function(f"{STATE}.prediction !== null")
    assert page.locator("#prediction").inner_text() in list("0123456789")
    assert page.evaluate("document.getElementById('probabilities').data[0].y.length") == 10
    assert QUADRATIC_NOTE in probabilities_title(page)
    assert "sigmoids" in page.locator("#probabilities").get_attribute("title")
    page.wait_for_function(f"{STATUS}.includes('finished')")
    expect(page.locator("#pause")).to_be_disabled()
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
    page.wait_for_function(f"{STATUS}.includes('finished')")
    names = page.evaluate("document.getElementById('cost').data.map(t => t.name)")
    assert "run 1 (real labels)" in names and "run 2 (shuffled labels)" in names
    # the panels on screen catch up (each is drawn at most every 250-1,000 ms) before the picture
    page.wait_for_function("window.gdviz.frames.panels.every(p => !p.visible || !p.dirty())")
    page.screenshot(path=str(screenshot_dir / "mnist.png"))

    page.click("#save")
    page.wait_for_function(f"{STATUS}.includes('saved')")

    # pause: the status says so, the button offers Resume, and no step arrives until resumed
    page.locator("#shuffle-labels").uncheck()
    page.locator("#epochs").fill("200")
    page.click("#train")
    page.wait_for_function("document.getElementById('cost').data.length === 9")
    page.wait_for_function(f"{STATUS}.startsWith('training')")
    expect(page.locator("#stop")).to_be_enabled()
    page.click("#pause")
    page.wait_for_function(f"{STATE}.paused")
    expect(page.locator("#pause")).to_contain_text("Resume")
    page.wait_for_function(f"{STATUS}.startsWith('paused')")
    paused_at = page.evaluate(f"{STATE}.lastStep.step")
    page.evaluate(f"{STATE}.prediction = null")
    page.click("#classify")  # a round trip over the same socket: any stray step came before it
    page.wait_for_function(f"{STATE}.prediction !== null")
    assert page.evaluate(f"{STATE}.lastStep.step") == paused_at
    page.click("#pause")
    page.wait_for_function(f"{STATE}.lastStep.step > {paused_at}")
    page.wait_for_function(f"{STATUS}.startsWith('training')")

    # clearing the curves mid-training keeps drawing the run that is training
    page.click("#clear-curves")
    page.wait_for_function("document.getElementById('cost').data.length === 3")
    page.wait_for_function("document.getElementById('cost').data[0].x.length > 50")
    page.click("#stop")
    page.wait_for_function(f"{STATUS}.includes('stopped')")
    expect(page.locator("#stop")).to_be_disabled()


def test_cross_entropy_outputs_are_called_a_softmax(live_server, page, mnist):
    page.goto(live_server + "/mnist")
    page.select_option("#cost-fn", "cross_entropy")
    page.locator("#epochs").fill("1")
    page.click("#train")
    page.wait_for_function(f"{STATE}.info !== null")
    draw_one(page)
    page.wait_for_function(f"{STATE}.prediction !== null && {STATE}.prediction.by === 'live'")
    title = probabilities_title(page)
    assert "softmax" in title and "sigmoid" not in title
    assert "softmax" in page.locator("#probabilities").get_attribute("title")
    page.wait_for_function(f"{STATUS}.includes('finished')")


def test_engine_is_shown_beside_the_data(live_server, page, mnist):
    """Which engine trains (the compiled kernel or plain NumPy), as the server says."""
    page.goto(live_server + "/mnist")
    page.wait_for_function("document.getElementById('data-source').textContent.includes('train')")
    page.locator("#epochs").fill("1")
    page.click("#train")
    page.wait_for_function(f"{STATE}.info !== null")
    engine = page.evaluate(f"{STATE}.info.engine")
    assert engine in ("numpy", "numba"), "the running status names no engine"
    expect(page.locator("#engine")).to_be_visible()
    expect(page.locator("#engine-name")).to_have_text(engine)
    assert page.locator(".runinfo .source").inner_text().endswith(f"· engine: {engine}")
    page.wait_for_function(f"{STATUS}.includes('finished')")


def draw_a_zero(page):
    """A ring two-thirds of the pad high, as a person draws a 0."""
    box = page.locator("#draw").bounding_box()
    cx, cy, w = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"]
    page.mouse.move(cx, cy - 0.33 * w)
    page.mouse.down()
    for k in range(1, 41):
        angle = 2 * math.pi * k / 40
        page.mouse.move(cx + 0.22 * w * math.sin(angle), cy - 0.33 * w * math.cos(angle))
    page.mouse.up()


INK_ON_THE_PAD = """(() => {
  const c = document.getElementById('draw');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let k = 0; k < d.length; k += 4) ink += d[k] / 255;
  return ink;
})()"""


def test_a_fine_pen_and_a_marker_are_read_as_the_usual_pen(live_server, page, mnist,
                                                          screenshot_dir):  # fmt: skip
    """The pen menu changes the ink on the pad six-fold; the input the network sees keeps
    MNIST's stroke (re-inked by the server), and the answer does not change."""
    page.goto(live_server + "/mnist")
    page.wait_for_function("document.getElementById('data-source').textContent.includes('train')")
    page.locator("#epochs").fill("3")
    page.click("#train")
    page.wait_for_function(f"{STATUS}.includes('finished')", timeout=60_000)
    pad_ink, seen_ink, answers = {}, {}, {}
    for pen in ("pen", "fine", "marker"):
        page.locator("#pen").select_option(label=pen)
        page.click("#clear")
        draw_a_zero(page)
        page.wait_for_function(f"{STATE}.prediction !== null")
        pad_ink[pen] = page.evaluate(INK_ON_THE_PAD)
        seen_ink[pen] = page.evaluate(f"{STATE}.prediction.input.reduce((a, b) => a + b, 0)")
        answers[pen] = page.locator("#prediction").inner_text()
        page.screenshot(path=str(screenshot_dir / f"mnist_pen_{pen}.png"))
    assert pad_ink["marker"] > 4 * pad_ink["fine"]
    for pen in ("fine", "marker"):
        assert seen_ink[pen] == pytest.approx(seen_ink["pen"], rel=0.3), seen_ink
    assert answers == {"pen": "0", "fine": "0", "marker": "0"}
