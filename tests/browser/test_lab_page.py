"""The surface lab in Chromium: plots, controls, play, live lr, dragging the start, runs, keys."""

import math

import pytest
from playwright.sync_api import expect

from tests.browser.plotting import contour_pixels, wait

pytestmark = pytest.mark.browser

STATE = "window.gdviz.state"
SE_MINIMUM = (3.584428340330, -1.848126526964)  # Himmelblau's, below the dropped start


def steps(page, run=0):
    return page.evaluate(f"{STATE}.runs[{run}].steps")


def trace(page, plot, index):
    return page.evaluate(f"document.getElementById('{plot}').data[{index}]")


def check_arrows(page, gradient):
    """The live layer's traces 1 and 2 are ∇f and −∇f, drawn from the current point."""
    for index, sign in ((1, 1), (2, -1)):
        arrow = trace(page, "contour", index)
        dx = arrow["x"][1] - arrow["x"][0]
        dy = arrow["y"][1] - arrow["y"][0]
        gx, gy = gradient
        assert sign * (dx * gx + dy * gy) > 0  # the right way
        cosine = (dx * gx + dy * gy) / (math.hypot(dx, dy) * math.hypot(gx, gy))
        assert abs(abs(cosine) - 1) < 1e-9  # along the gradient


def test_lab_page_end_to_end(live_server, page, screenshot_dir):
    page.goto(live_server + "/")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")

    # every control shows its true value on load: Himmelblau's default start and lr, paused
    assert page.locator("#surface-select").input_value() == "himmelblau"
    assert page.locator("#optimizer").input_value() == "gd"
    assert page.locator("#lr-value").inner_text() == "0.01"
    assert float(page.locator("#lr").input_value()) == pytest.approx(-2)
    assert page.locator("#speed-value").inner_text() == "60 steps/s"
    expect(page.locator("#step-count")).to_have_text("0")
    expect(page.locator("#play")).to_contain_text("Play")
    for text in ("step 0", "paused", "f = 179.1", "|∇f| = 11.3", "lr·|∇f| = 0.113"):
        expect(page.locator("#status")).to_contain_text(text)
    first = steps(page)[0]
    assert (first["x"], first["y"], first["lr"]) == (-0.5, -0.5, None)

    # all three plots are drawn: the contour under the live layer, the 3-D surface, the cost
    assert trace(page, "contour-field", 0)["type"] == "contour"
    assert trace(page, "surface3d", 0)["type"] == "surface"
    assert trace(page, "contour", 3)["x"] == [-0.5]  # run a's path: its start
    assert trace(page, "cost", 0)["y"] == [first["f"]]
    labels = page.evaluate("document.getElementById('contour').data.flatMap(t => t.text || [])")
    assert {"min", "start", "∇f", "−∇f"} <= set(labels)
    check_arrows(page, first["g"])  # shown at once, before any step

    # play: the path grows in all three plots; the lr slider changes later steps' lr
    page.locator("#speed").fill("3")  # 10 steps/s, so lr can change mid-run
    page.click("#play")
    wait(page, f"{STATE}.runs[0].steps.length >= 4")
    expect(page.locator("#play")).to_contain_text("Pause")
    page.locator("#lr").fill("-2.5")  # lr = 10^-2.5
    assert page.locator("#lr-value").inner_text() == "0.00316"
    wait(page, f"{STATE}.runs[0].steps.some(s => s.lr === 0.00316)")
    run = steps(page)
    lrs = [s["lr"] for s in run[1:]]
    switch = lrs.index(0.00316)
    assert set(lrs[:switch]) == {0.01} and set(lrs[switch:]) == {0.00316}
    for before, after in zip(run, run[1:], strict=False):  # gd: x_{i+1} = x_i − lr_{i+1}·g_i
        assert after["x"] == pytest.approx(before["x"] - after["lr"] * before["g"][0], abs=1e-12)
    wait(page, "document.getElementById('contour').data[3].x.length >= 6")
    wait(page, "document.getElementById('cost').data[0].x.length >= 6")
    wait(page, "document.getElementById('surface3d').data[1].x.length >= 6", timeout=3000)
    last = steps(page)[-1]
    now = trace(page, "contour", 5)  # the current point, labelled
    assert now["text"] == ["now"]
    assert math.hypot(now["x"][0] - last["x"], now["y"][0] - last["y"]) < 0.5

    # drag the start marker: the run restarts from where it is dropped
    sx, sy = contour_pixels(page, -0.5, -0.5)
    tx, ty = contour_pixels(page, 2.0, -3.0)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(tx, ty, steps=8)
    page.mouse.up()
    wait(page, f"Math.hypot({STATE}.runs[0].steps[0].x - 2, {STATE}.runs[0].steps[0].y + 3) < 0.05")
    start = steps(page)[0]
    assert start["i"] == 0 and start["lr"] is None
    assert trace(page, "contour", 4)["x"][0] == pytest.approx(start["x"])
    page.locator("#speed").fill("13")  # max
    assert page.locator("#speed-value").inner_text() == "max"
    wait(page, f"{STATE}.runs[0].state === 'converged'")
    end = steps(page)[-1]
    assert math.hypot(end["x"] - SE_MINIMUM[0], end["y"] - SE_MINIMUM[1]) < 1e-3
    expect(page.locator("#status")).to_contain_text("converged")
    assert "starts=2" in page.url  # the dropped start is in the link

    # log y: the cost plot shows f − f* (Himmelblau: f* = 0) on a log axis
    page.click("#log-cost")
    wait(page, "document.getElementById('cost').layout.yaxis.type === 'log'")
    cost = trace(page, "cost", 0)
    assert cost["y"][0] == pytest.approx(steps(page)[0]["f"])
    assert min(cost["y"]) < 1e-10

    # click empty ground: a second run starts there, in its own colour in every plot
    cx, cy = contour_pixels(page, -3.0, 3.5)
    page.mouse.click(cx, cy)
    wait(page, f"{STATE}.runs.length === 2 && {STATE}.runs[1].steps.length > 5")
    second = steps(page, 1)[0]
    assert math.hypot(second["x"] + 3.0, second["y"] - 3.5) < 0.05
    assert page.locator("#runs li").count() == 2
    colors = page.evaluate(f"{STATE}.runs.map(r => r.color)")
    assert colors[0] != colors[1]
    cost_colors = page.evaluate("document.getElementById('cost').data.map(t => t.line.color)")
    assert cost_colors == colors
    assert trace(page, "contour", 6)["line"]["color"] == colors[1]
    # the 3-D view redraws on a timer: the picture waits until it shows run b's last point
    wait(
        page,
        f"""{STATE}.runs[1].state === 'converged' && (() => {{
            const ends = document.getElementById('surface3d').data[4].x;
            return ends[ends.length - 1] === {STATE}.runs[1].steps.at(-1).x;
        }})()""",
    )
    page.screenshot(path=str(screenshot_dir / "lab.png"))
    page.locator("#runs li").nth(1).locator("button.remove").click()
    wait(page, f"{STATE}.runs.length === 1 && document.getElementById('cost').data.length === 1")

    # reset, then the keys: → steps once, Space plays
    page.click("#reset")
    wait(page, f"{STATE}.runs[0].steps.length === 1 && !{STATE}.playing")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("ArrowRight")
    wait(page, f"{STATE}.runs[0].steps.length === 2")
    expect(page.locator("#step-count")).to_have_text("1")
    page.keyboard.press("Space")
    wait(page, f"{STATE}.runs[0].steps.length > 10")

    # another surface: its default start and lr, paused; then another optimizer restarts it
    page.select_option("#surface-select", "rosenbrock")
    wait(page, f"{STATE}.surface.name === 'rosenbrock' && {STATE}.runs[0].steps.length === 1")
    assert page.locator("#lr-value").inner_text() == "0.0018"
    assert page.evaluate("document.getElementById('contour-field').layout.xaxis.range") == [-2, 2]
    assert steps(page)[0]["x"] == -1.5
    page.select_option("#optimizer", "adam")
    page.click("#play")
    wait(page, f"{STATE}.runs[0].steps.length > 40")
    assert "surface=rosenbrock" in page.url and "optimizer=adam" in page.url
    page.screenshot(path=str(screenshot_dir / "lab-rosenbrock.png"))


def test_divergence_is_stopped_marked_and_explained(live_server, page, screenshot_dir):
    page.goto(live_server + "/#surface=bowl&optimizer=gd&lr=1.2&speed=0&starts=2,1")
    wait(page, f"{STATE}.runs[0] && {STATE}.runs[0].steps.length === 1")
    assert page.locator("#lr-value").inner_text() == "1.2"  # the link's settings are shown
    assert page.locator("#speed-value").inner_text() == "max"
    page.click("#play")
    wait(page, f"{STATE}.runs[0].state === 'diverged'")
    expect(page.locator("#status")).to_contain_text("too large for this curvature")
    status = page.locator("#status").inner_text()
    assert "diverged" in status and "NaN" not in status and "Infinity" not in status
    # the axes stay on the domain; the exit is marked at the edge
    for plot in ("contour", "contour-field"):
        axes = page.evaluate(f"document.getElementById('{plot}')._fullLayout.xaxis.range")
        assert axes == [-3, 3]
    notes = page.evaluate("document.getElementById('contour').layout.annotations")
    assert any("diverged" in note["text"] and abs(abs(note["x"]) - 3) < 1e-9 for note in notes)
    # the cost axis stops at the surface's highest value on the plot (f = 18), not at 1e11
    wait(page, "document.getElementById('cost')._fullLayout.yaxis.range[1] < 20")
    page.screenshot(path=str(screenshot_dir / "lab-diverged.png"))
