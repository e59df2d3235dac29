"""The digit lab answers a person at once while a batch-10 training keeps every panel busy.

Headless Chromium renders in software, like a laptop without a GPU. The page records, from
each input event's own ``timeStamp``, when its effect shows (benchmarks/page_latency.py's
probes): a click on Pause → "paused" on the status line, a pen's move on the pad → its ink
on the screen. Before the page drew one panel per animation frame these took 130–400 ms
typically and up to 0.8 s under load; the bounds here are generous but catch such stalls.
"""

import statistics

import pytest

from benchmarks.page_latency import PROBES

pytestmark = pytest.mark.browser
STATE = "window.gdviz.state"
FRAMES = "window.gdviz.frames"
STATUS = "document.getElementById('train-status').textContent"
PAUSES = 5
STROKES = 3
MOVES = 12


def moving_draws(page) -> int:
    return page.evaluate(f"{FRAMES}.moved")


def test_pause_and_ink_take_effect_within_100_ms_while_training(live_server, page, mnist,
                                                               screenshot_dir):  # fmt: skip
    page.goto(live_server + "/mnist")
    page.wait_for_function("document.getElementById('data-source').textContent.includes('train')")
    page.evaluate(PROBES)
    page.fill("#batch-size", "10")
    page.fill("#epochs", "1000")  # far longer than the test: it trains throughout
    page.click("#train")
    # well into the training: curves, weights, confusion and gradient sizes all redrawing
    page.wait_for_function(f"{STATE}.lastStep && {STATE}.lastStep.epoch > 2", timeout=60_000)
    page.wait_for_function(
        f"['cost', 'accuracy', 'weights', 'confusion', 'gradient sizes']"
        f".every(name => ({FRAMES}.drawn[name] || 0) >= 2)",
        timeout=30_000,
    )
    drawn_before = page.evaluate(f"({{...{FRAMES}.drawn}})")

    for _ in range(PAUSES):
        page.click("#pause")
        assert page.evaluate(STATUS).startswith("paused")  # at once, before the server answers
        page.wait_for_function(f"{STATE}.paused && !{STATE}.wants")  # the server's word
        paused_at = page.evaluate(f"{STATE}.lastStep.step")
        moved = moving_draws(page)
        page.evaluate(f"{STATE}.savedModel = false")
        page.click("#save")  # a round trip: whatever the server sent before pausing has come
        page.wait_for_function(f"{STATE}.savedModel")
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        assert moving_draws(page) == moved, "a panel moved while paused"
        assert page.evaluate(f"{STATE}.lastStep.step") == paused_at
        page.click("#pause")
        page.wait_for_function(f"{STATE}.lastStep.step > {paused_at}")
        page.wait_for_function(f"{FRAMES}.moved > {moved} + 3")  # busy drawing again

    box = page.locator("#draw").bounding_box()
    for k in range(STROKES):
        x0, y0 = box["x"] + 60 + 40 * k, box["y"] + 50
        moved = moving_draws(page)
        page.mouse.move(x0, y0)
        page.mouse.down()
        for j in range(1, MOVES + 1):
            inked = page.evaluate("window.__latency.ink.length")
            page.mouse.move(x0 + 3 * j, y0 + 13 * j)
            page.wait_for_function(
                f"window.__latency.ink.length > {inked}"
            )  # this move's ink shown
        page.mouse.up()
        page.wait_for_function(f"{FRAMES}.moved > {moved} + 3")  # the panels catch up after it

    probe = page.evaluate("window.__latency")
    drawn_after = page.evaluate(f"({{...{FRAMES}.drawn}})")
    page.screenshot(path=str(screenshot_dir / "mnist-responsive.png"))
    page.click("#stop")
    page.wait_for_function(f"{STATUS}.includes('stopped')")

    assert len(probe["pause"]) == PAUSES and len(probe["pause_confirmed"]) == PAUSES
    assert len(probe["ink"]) == STROKES * MOVES
    assert probe["moved_while_paused"] == 0
    # the page kept drawing all along: responsive because it schedules, not because it stopped
    for name in ("cost", "accuracy", "weights"):
        assert drawn_after[name] >= drawn_before[name] + PAUSES, name
    for name in ("pause", "ink"):
        values = probe[name]
        assert statistics.median(values) < 100, (name, sorted(values))
        assert max(values) < 500, (name, sorted(values))


def test_augment_checkbox_sends_augment_in_the_start(live_server, page, mnist):
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(live_server + "/mnist")
    page.wait_for_function("document.getElementById('data-source').textContent.includes('train')")
    page.fill("#epochs", "1")

    def start_message() -> dict:
        import json

        starts = [json.loads(s) for s in sent if isinstance(s, str) and '"start"' in s]
        return starts[-1]

    page.click("#train")
    page.wait_for_function(f"{STATUS}.includes('finished')", timeout=60_000)
    assert start_message()["augment"] is False

    page.check("#augment")
    page.click("#train")
    page.wait_for_function(f"{STATE}.info !== null && {STATE}.run && {STATE}.run.augment === true")
    assert start_message()["augment"] is True
    page.wait_for_function(f"{STATUS}.includes('finished')", timeout=60_000)
    assert page.evaluate(f"{STATE}.error") == ""  # the server took it


def test_decimated_curves_keep_every_spike(live_server, page):
    """400,000 batch costs drawn with at most 2,050 points, each a real sample, in order,
    with the lowest and highest of every stretch: a spike never disappears."""
    import random

    rng = random.Random(0)
    n = 400_000
    xs = [k / 400 for k in range(n)]
    ys = [1 / (1 + k / 4000) + 0.05 * rng.random() for k in range(n)]
    spikes = [1_234, 99_999, 250_000, 399_998]
    for k in spikes:
        ys[k] = 5.0 + k / n  # each a different height, far above the rest
    ys[1] = 3.0  # the first stretch's highest is not its first: the first is still drawn
    page.goto(live_server + "/mnist")
    points = page.evaluate(
        """async ([xs, ys]) => {
          const { Decimator } = await import("/static/digits/charts.js");
          const d = new Decimator();
          xs.forEach((x, k) => d.push(x, ys[k]));
          return d.points();
        }""",
        [xs, ys],
    )
    px, py = points["x"], points["y"]
    assert 512 <= len(px) <= 2050 and len(px) == len(py)
    assert px == sorted(px)
    sample = dict(zip(xs, ys, strict=True))
    assert all(sample[x] == y for x, y in zip(px, py, strict=True))  # real samples, not means
    shown = set(zip(px, py, strict=True))
    assert all((xs[k], ys[k]) in shown for k in spikes)
    assert (xs[ys.index(min(ys))], min(ys)) in shown
    assert px[0] == xs[0] and px[-1] == xs[-1]  # from the first step to the latest
