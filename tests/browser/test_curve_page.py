"""The 1-D page in Chromium: the ball, its tangent, the step arrow and the words for it."""

import pytest
from playwright.sync_api import expect

from app.curves import CURVES
from app.descent import DescentRun

pytestmark = pytest.mark.browser

STATE = "window.gdviz.state"


def wait(page, condition, timeout=15_000):
    page.wait_for_function(f"window.gdviz && window.gdviz.state && ({condition})", timeout=timeout)


def trace(page, name):
    return page.evaluate(f"document.getElementById('curve').data.find(t => t.name === '{name}')")


def ball(page):
    return page.evaluate(f"{STATE}.steps[{STATE}.steps.length - 1]")


def check_picture(page, lr):
    """Ball, tangent and arrow drawn where the last step says (once the frame has drawn it)."""
    wait(
        page,
        f"""(() => {{ const s = {STATE}.steps, el = document.getElementById('curve');
                     const t = el.data && el.data.find(t => t.name === 'ball');
                     return s.length && t && t.x[0] === s[s.length - 1].x; }})()""",
    )
    b = ball(page)
    assert trace(page, "ball")["x"] == [b["x"]] and trace(page, "ball")["y"] == [b["f"]]
    tangent = trace(page, "tangent")
    slope = (tangent["y"][1] - tangent["y"][0]) / (tangent["x"][1] - tangent["x"][0])
    assert slope == pytest.approx(b["g"], rel=1e-9, abs=1e-12)
    arrow = page.evaluate("document.getElementById('curve').layout.annotations[0]")
    assert arrow["ax"] == b["x"] and arrow["y"] == arrow["ay"] < b["f"]  # just under the ball
    assert arrow["x"] == pytest.approx(b["x"] - lr * b["g"], rel=1e-12)
    return b


def test_ball_rolls_down_with_tangent_and_step_arrow(live_server, page, screenshot_dir):
    page.goto(live_server + "/")
    page.click("nav >> text=1-D")
    wait(page, f"{STATE}.steps.length === 1")
    assert page.url.startswith(live_server + "/1d")
    well = CURVES["double_well"]
    assert page.locator("#curve-select").input_value() == "double_well"
    assert page.locator("#lr-value").inner_text() == "0.02"
    first = check_picture(page, 0.02)
    assert first["x"] == well.default_start and first["i"] == 0
    assert first["g"] == well.derivative(well.default_start) > 0
    expect(page.locator("#explain-step")).to_contain_text("moves ← left")

    # five single steps: each is x − lr·f′(x), and the arrow follows the ball
    for _ in range(5):
        count = page.evaluate(f"{STATE}.steps.length")
        page.click("#step")
        wait(page, f"{STATE}.steps.length === {count + 1}")
    steps = page.evaluate(f"{STATE}.steps")
    for before, after in zip(steps, steps[1:], strict=False):
        assert after["x"] == before["x"] - 0.02 * before["g"]
    check_picture(page, 0.02)
    expect(page.locator("#step-count")).to_have_text("5")
    page.screenshot(path=str(screenshot_dir / "curve.png"))

    # run to the end: the steps shrink as the slope flattens, into the right-hand pit
    page.locator("#speed").fill("5")  # max
    page.click("#play")
    wait(page, f"{STATE}.runState === 'converged'")
    steps = page.evaluate(f"{STATE}.steps")
    lengths = [abs(b["x"] - a["x"]) for a, b in zip(steps, steps[1:], strict=False)]
    tail = lengths[len(lengths) // 2 :]
    assert all(later <= earlier for earlier, later in zip(tail, tail[1:], strict=False))
    assert lengths[-1] < lengths[0] / 1000
    assert steps[-1]["x"] == pytest.approx(well.minima[1], abs=1e-6)
    expect(page.locator("#status")).to_contain_text("converged")
    expect(page.locator("#explain-step")).to_contain_text("flat")

    # click left of the left pit: the ball restarts there and the slope sends it right
    box = page.locator("#curve").bounding_box()
    x_pixels = page.evaluate(
        """() => { const xa = document.getElementById('curve')._fullLayout.xaxis;
                   return xa._offset + xa.c2p(-1.8); }"""
    )
    page.mouse.click(box["x"] + x_pixels, box["y"] + box["height"] / 2)
    wait(page, f"{STATE}.steps.length > 0 && Math.abs({STATE}.steps[0].x + 1.8) < 0.05")
    assert page.evaluate(f"{STATE}.steps[0].g") < 0
    wait(page, f"{STATE}.runState === 'converged'")
    assert ball(page)["x"] == pytest.approx(well.minima[0], abs=1e-6)
    assert "start=-1.8" in page.url


def test_other_curves_and_a_link_back(live_server, page):
    page.goto(live_server + "/1d#curve=quartic&lr=0.005&start=-0.8")
    wait(page, f"{STATE}.steps.length === 1")
    assert page.locator("#curve-select").input_value() == "quartic"
    assert page.locator("#lr-value").inner_text() == "0.005"
    first = check_picture(page, 0.005)
    assert first["x"] == -0.8 and first["g"] < 0
    expect(page.locator("#explain-step")).to_contain_text("moves right →")
    expect(page.locator("#curve-formula")).to_have_text("f(x) = x⁴ − 3x³ + 2")
    page.select_option("#curve-select", "wavy")
    wait(page, f"{STATE}.curve.name === 'wavy' && {STATE}.steps.length === 1")
    assert ball(page)["x"] == CURVES["wavy"].default_start
    page.click("nav >> text=Surface lab")
    page.wait_for_url(live_server + "/**")
    wait(page, "window.gdviz.state.runs && window.gdviz.state.runs.length === 1")


def test_a_noisy_ball_hops_out_of_a_ripple_and_its_link_replays_it(
    live_server, page, screenshot_dir
):
    link = "/1d#curve=wavy&lr=0.05&start=3.9&optimizer=langevin&seed=3"
    page.goto(live_server + link)
    wait(page, f"{STATE}.steps.length === 1")
    assert page.locator("#optimizer").input_value() == "langevin"
    expect(page.locator("#explain-step")).to_contain_text("random kick")
    page.locator("#speed").fill("5")  # max
    page.click("#play")
    wait(page, f"{STATE}.runState === 'max_steps'", timeout=60_000)
    steps = page.evaluate(f"{STATE}.steps")
    wavy = CURVES["wavy"]
    expected = list(DescentRun(wavy.surface, (3.9, 0.0), "langevin", 0.05, None, 5000, seed=3))
    assert [(s["x"], s["f"]) for s in steps] == [(s["x"], s["f"]) for s in expected]
    # gd from 3.9 stops in the ripple at 3.58; this ball leaves it
    assert min(abs(s["x"] - wavy.minima[-1]) for s in steps[-100:]) > 0.5
    page.screenshot(path=str(screenshot_dir / "curve-langevin.png"))
    page.goto(live_server + link.replace("/1d#", "/1d?again=1#"))  # a fresh load
    wait(page, f"{STATE}.steps.length === 1")
    page.locator("#speed").fill("5")
    page.click("#play")
    wait(page, f"{STATE}.runState === 'max_steps'", timeout=60_000)
    assert page.evaluate(f"{STATE}.steps") == steps
