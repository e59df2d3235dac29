"""The basin map on the surface lab, in Chromium: toggle, recompute, click a cell to run."""

import math

import pytest

from tests.browser.plotting import contour_pixels, wait

pytestmark = pytest.mark.browser

STATE = "window.gdviz.state"
BASINS = "window.gdviz.basins"


def watch_status(page):
    """Record every state #basins-status shows (a computation can be over between two polls)."""
    page.evaluate(
        """() => {
            window.__basinStates = [];
            window.__basinMapBefore = window.gdviz.basins.map;
            const box = document.getElementById('basins-status');
            new MutationObserver(() => window.__basinStates.push(box.className))
                .observe(box, {attributes: true});
        }"""
    )


def wait_for_new_map(page):
    """Until a map other than the one shown before ``watch_status`` is shown, spinner seen."""
    wait(page, f"{BASINS}.map !== window.__basinMapBefore && {BASINS}.status.state === 'shown'")
    assert any("computing" in c for c in page.evaluate("window.__basinStates"))


def field_traces(page):
    return page.evaluate("document.getElementById('contour-field').data")


def test_basin_map_toggles_recomputes_and_launches_runs(live_server, page, screenshot_dir):
    page.goto(live_server + "/")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    assert [t["type"] for t in field_traces(page)] == ["contour"]

    # on: a spinner while the server computes, then the heatmap beneath the contour lines
    watch_status(page)
    page.click("#basins")
    wait_for_new_map(page)
    traces = field_traces(page)
    assert [t["type"] for t in traces] == ["heatmap", "contour"]
    assert traces[1]["contours"]["coloring"] == "lines"
    heat = traces[0]
    assert len(heat["z"]) == 100 and len(heat["z"][0]) == 100
    shown = page.evaluate(f"{BASINS}.map")
    assert len(shown["minima"]) == 4  # Himmelblau, gd, lr 0.01: four basins, no grey
    assert {v for row in heat["z"] for v in row} == {2, 3, 4, 5}
    status = page.locator("#basins-status").inner_text()
    assert "4 minima" in status and "0 % diverged" in status
    assert "learning rate" not in status  # a map that says something needs no advice

    # a cell near a minimum is that minimum's colour; the run from it really ends there
    mx, my = shown["minima"][2]
    px, py = contour_pixels(page, mx + 0.4, my + 0.3)
    page.mouse.click(px, py)
    wait(page, f"{STATE}.runs[0].state === 'converged'", timeout=30_000)
    run = page.evaluate(f"{STATE}.runs[0]")
    assert len(page.evaluate(f"{STATE}.runs")) == 1  # a click on the map moves, never adds
    sx, sy = run["start"]
    assert sx in shown["x"] and sy in shown["y"]  # snapped to the cell's own start
    assert math.hypot(sx - mx - 0.4, sy - my - 0.3) < 0.1
    cell = shown["minimum"][shown["y"].index(sy)][shown["x"].index(sx)]
    end = run["steps"][-1]
    assert (
        math.hypot(end["x"] - shown["minima"][cell][0], end["y"] - shown["minima"][cell][1]) < 1e-3
    )
    page.screenshot(path=str(screenshot_dir / "basins.png"))

    # a larger lr recomputes the map (debounced): past 2/λ_max of a minimum its runs no
    # longer settle there (grey), and some corners diverge (dark)
    watch_status(page)
    page.locator("#lr").fill("-1.65")  # lr = 10^-1.65 ≈ 0.0224
    wait_for_new_map(page)
    codes = {c for row in page.evaluate(f"{BASINS}.map.minimum") for c in row}
    assert {-2, -1, 0, 1} <= codes
    assert "diverged (dark)" in page.locator("#basins-status").inner_text()
    page.screenshot(path=str(screenshot_dir / "basins-diverging.png"))

    # the optimizer recomputes it too; off removes it and restores the filled contour
    watch_status(page)
    page.select_option("#optimizer", "momentum")
    wait_for_new_map(page)
    page.click("#basins")
    assert [t["type"] for t in field_traces(page)] == ["contour"]
    assert field_traces(page)[0]["contours"]["coloring"] == "heatmap"
    assert page.locator("#basins-status").is_hidden()

    # off, a click adds a run again
    px, py = contour_pixels(page, -3.0, 3.5)
    page.mouse.click(px, py)
    wait(page, f"{STATE}.runs.length === 2")


def test_basin_map_follows_the_surface(live_server, page):
    page.goto(live_server + "/")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    page.click("#basins")
    wait(page, f"{BASINS}.status.state === 'shown'")
    page.select_option("#surface-select", "wells")
    wait(page, f"{STATE}.surface.name === 'wells' && {BASINS}.status.state === 'shown'")
    wait(page, f"{BASINS}.map.x[0] === -5 && {BASINS}.map.minima.length === 4")
    assert [t["type"] for t in field_traces(page)] == ["heatmap", "contour"]


def test_basin_map_says_why_a_random_optimizer_has_none(live_server, page):
    page.goto(live_server + "/#surface=wells&optimizer=langevin")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    page.click("#basins")
    wait(page, f"{BASINS}.status.state === 'error'")
    assert "deterministic optimizer" in page.locator("#basins-status").inner_text()
    assert [t["type"] for t in field_traces(page)] == ["contour"]
    page.select_option("#optimizer", "gd")  # a deterministic one: the map comes back
    wait(page, f"{BASINS}.status.state === 'shown'")
    assert [t["type"] for t in field_traces(page)] == ["heatmap", "contour"]


def test_a_typed_formula_gets_its_basin_map(live_server, page):
    page.goto(live_server + "/")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    page.fill("#formula", "(x^2 - 1)^2 + y^2")
    page.press("#formula", "Enter")
    wait(page, f"{STATE}.surface.name === 'custom'")
    page.click("#basins")
    wait(page, f"{BASINS}.status.state === 'shown' && {BASINS}.map.minima.length === 2")
    minima = sorted(page.evaluate(f"{BASINS}.map.minima"))
    assert [round(x, 3) for x, _ in minima] == [-1.0, 1.0]
    assert [t["type"] for t in field_traces(page)] == ["heatmap", "contour"]


def test_a_map_of_mostly_grey_says_what_to_change(live_server, page, screenshot_dir):
    """lr 10⁻⁴: hardly a start settles in 1,000 steps, and the map alone would be a grey
    square; the status line says what would make it speak."""
    page.goto(live_server + "/")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    watch_status(page)
    page.click("#basins")
    wait_for_new_map(page)
    watch_status(page)
    page.locator("#lr").fill("-4")
    wait_for_new_map(page)
    codes = [c for row in page.evaluate(f"{BASINS}.map.minimum") for c in row]
    assert codes.count(-1) >= len(codes) / 2
    status = page.locator("#basins-status").inner_text()
    assert "need more than 1,000 steps: try a larger learning rate" in status
    page.screenshot(path=str(screenshot_dir / "basins-grey.png"))
