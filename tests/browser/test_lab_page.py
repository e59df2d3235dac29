"""The surface lab in Chromium: plots draw, play, the lr slider, dragging the start, runs."""

import math

import pytest

pytestmark = pytest.mark.browser

STATE = "window.gdviz.state"


def run_steps(page, index=0):
    return page.evaluate(f"{STATE}.runs[{index}].steps")


def wait_for_steps(page, count, index=0):
    page.wait_for_function(f"{STATE}.runs[{index}] && {STATE}.runs[{index}].steps.length >= {count}")


def to_pixels(page, x, y):
    """Page coordinates of data point (x, y) on the contour plot."""
    return page.evaluate(
        """([x, y]) => {
            const gd = document.getElementById('contour');
            const box = gd.getBoundingClientRect();
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return [box.left + xa._offset + xa.c2p(x), box.top + ya._offset + ya.c2p(y)];
        }""",
        [x, y],
    )


def test_lab_page_end_to_end(live_server, page, screenshot_dir):
    page.goto(live_server + "/")
    wait_for_steps(page, 1)
    # every control shows its true value on load
    assert page.locator("#surface-select").input_value() == "himmelblau"
    assert page.locator("#optimizer").input_value() == "gd"
    assert page.locator("#lr-value").inner_text() == "0.01"
    assert float(page.locator("#lr").input_value()) == pytest.approx(-2)
    assert page.locator("#speed-value").inner_text() == "60 steps/s"
    # all three plots are drawn
    for plot_id in ("contour", "surface3d", "cost"):
        assert page.evaluate(f"document.getElementById('{plot_id}').data.length") >= 1
    assert page.evaluate("document.getElementById('contour').data[0].type") == "contour"
    assert "step 0" in page.locator("#status").inner_text()

    # play: the path grows, in all three plots
    page.locator("#speed").fill("3")  # 10 steps/s, so lr can change mid-run
    page.click("#play")
    wait_for_steps(page, 4)
    page.locator("#lr").fill("-2.5")  # lr = 10^-2.5
    assert page.locator("#lr-value").inner_text() == "0.00316"
    page.wait_for_function(f"{STATE}.runs[0].steps.some(s => s.lr === 0.00316)")
    lrs = [s["lr"] for s in run_steps(page)[1:]]
    switch = lrs.index(0.00316)
    assert set(lrs[:switch]) == {0.01} and set(lrs[switch:]) == {0.00316}
    page.wait_for_function("document.getElementById('cost').data[0].x.length >= 5")
    page.wait_for_function("document.getElementById('surface3d').data[1].x.length >= 5")

    # drag the start marker: the path restarts from the drop point
    sx, sy = to_pixels(page, -0.5, -0.5)
    tx, ty = to_pixels(page, 2.0, -3.0)
    page.mouse.move(sx, sy)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(sx + (tx - sx) * k / 10, sy + (ty - sy) * k / 10)
        page.wait_for_timeout(20)
    page.mouse.up()
    page.wait_for_function(
        f"{STATE}.runs[0].steps.length > 0 && Math.abs({STATE}.runs[0].steps[0].x - 2) < 0.1"
    )
    first = run_steps(page)[0]
    assert first["i"] == 0
    assert math.hypot(first["x"] - 2.0, first["y"] + 3.0) < 0.1
    page.locator("#speed").fill("13")  # max speed
    page.wait_for_function(f"{STATE}.runs[0].state === 'converged'")
    last = run_steps(page)[-1]
    assert math.hypot(last["x"] - 3.584428, last["y"] + 1.848126) < 1e-3  # the pit below it

    # click empty ground to add a second run; it gets its own colour in every plot
    cx, cy = to_pixels(page, -3.0, 3.5)
    page.mouse.click(cx, cy)
    page.wait_for_function(f"{STATE}.runs.length === 2 && {STATE}.runs[1].steps.length > 5")
    assert page.locator("#runs li").count() == 2
    colors = page.evaluate(f"{STATE}.runs.map(r => r.color)")
    assert colors[0] != colors[1]
    cost_colors = page.evaluate("document.getElementById('cost').data.map(t => t.line.color)")
    assert cost_colors == colors
    page.screenshot(path=str(screenshot_dir / "lab.png"))

    # remove it again
    page.locator("#runs li").nth(1).locator("button").click()
    page.wait_for_function(f"{STATE}.runs.length === 1")

    # keyboard: Space pauses/plays, → steps once
    page.click("#reset")
    page.wait_for_function(f"{STATE}.runs[0].steps.length === 1 && !{STATE}.playing")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"{STATE}.runs[0].steps.length === 2")
    page.keyboard.press("Space")
    page.wait_for_function(f"{STATE}.runs[0].steps.length > 3")

    # switching surface and optimizer
    page.select_option("#surface-select", "rosenbrock")
    page.wait_for_function(f"{STATE}.surface.name === 'rosenbrock' && {STATE}.runs[0].steps.length")
    assert page.locator("#lr-value").inner_text() == "0.0018"
    page.select_option("#optimizer", "adam")
    page.click("#play")
    page.wait_for_function(f"{STATE}.runs[0].steps.length > 20")
    page.wait_for_timeout(300)
    assert "rosenbrock" in page.url and "adam" in page.url  # the view is in the link
    page.screenshot(path=str(screenshot_dir / "lab-rosenbrock.png"))


def test_divergence_is_marked_and_explained(live_server, page, screenshot_dir):
    page.goto(live_server + "/#surface=bowl&optimizer=gd&lr=1.2&speed=0&starts=2,1")
    wait_for_steps(page, 1)
    assert page.locator("#lr-value").inner_text() == "1.2"
    page.click("#play")
    page.wait_for_function(f"{STATE}.runs[0].state === 'diverged'")
    status = page.locator("#status").inner_text()
    assert "diverged" in status and "too large" in status
    assert "NaN" not in status and "Infinity" not in status
    layout = page.evaluate("document.getElementById('contour').layout")
    assert layout["xaxis"]["range"] == [-3, 3]  # the axes stay on the domain
    assert any("diverged" in a.get("text", "") for a in layout["annotations"])
    page.screenshot(path=str(screenshot_dir / "lab-diverged.png"))
