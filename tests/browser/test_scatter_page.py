"""Escaping a pit on the surface lab: noisy optimizers, the seed in the link, scatter N starts."""

import json
import math

import pytest

from app.descent import DescentRun
from app.surfaces import SURFACES

pytestmark = pytest.mark.browser

STATE = "window.gdviz.state"
WELLS = SURFACES["wells"]
LINK = "/#surface=wells&optimizer=langevin&lr=0.2&speed=0&starts=2.8,-2.3&seed=1"


def wait(page, condition, timeout=30_000):
    page.wait_for_function(f"window.gdviz && ({condition})", timeout=timeout)


def pit_of(x, y):
    return min(range(4), key=lambda k: math.hypot(x - WELLS.minima[k][0], y - WELLS.minima[k][1]))


def finished_run(page, link):
    page.goto(link)
    # from "/" the link is only a new hash: wait for the page to have applied it, not for the
    # run it showed before (a race that once played gd on Himmelblau here, for a minute)
    linked = f"{STATE}.surface?.name === 'wells' && {STATE}.runs[0]?.start[0] === 2.8"
    wait(page, f"{linked} && {STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    page.click("#play")
    wait(page, f"{STATE}.runs[0].state === 'max_steps'", timeout=60_000)
    return page.evaluate(f"{STATE}.runs[0].steps")


def test_a_seeded_langevin_run_escapes_and_its_link_replays_it(live_server, page):
    options = page.goto(live_server + "/") and page.locator("#optimizer option")
    assert {"langevin", "annealing"} <= set(options.evaluate_all("os => os.map(o => o.value)"))
    steps = finished_run(page, live_server + LINK)
    assert page.locator("#optimizer").input_value() == "langevin"
    assert "seed=1" in page.url
    # exactly the server-side run with the same seed (run a gets the page's seed itself)
    expected = list(DescentRun(WELLS, (2.8, -2.3), "langevin", 0.2, None, 20_000, seed=1))
    assert len(steps) == len(expected) == 20_001
    assert json.dumps(steps[::997]) == json.dumps(expected[::997])
    assert steps[-1] == expected[-1]
    # gd from there stays in the shallow pit; this run visits others
    assert len({pit_of(s["x"], s["y"]) for s in steps}) >= 2
    # the link replays it bit for bit
    again = finished_run(page, live_server + LINK.replace("/#", "/?again=1#"))  # a fresh load
    assert json.dumps(again) == json.dumps(steps)


def test_scatter_launches_n_runs_at_once(live_server, page, screenshot_dir):
    page.goto(live_server + "/#surface=wells&optimizer=annealing&speed=0")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    page.locator("#scatter-n").fill("6")
    page.click("#scatter")
    wait(page, f"{STATE}.runs.length === 6 && {STATE}.runs.every(r => r.steps.length > 1)")
    runs = page.evaluate(f"{STATE}.runs")
    starts = [tuple(r["start"]) for r in runs]
    assert len(set(starts)) == 6
    assert all(-5 <= x <= 5 and -5 <= y <= 5 for x, y in starts)
    assert all(r["steps"][0]["x"] == r["start"][0] for r in runs)
    assert len({r["color"] for r in runs}) == 6
    seed = page.evaluate(f"{STATE}.seed")
    assert f"seed={seed}" in page.url and page.url.count("%3B") == 5  # six starts in the link
    wait(page, f"{STATE}.runs.every(r => r.state === 'max_steps')", timeout=90_000)
    page.screenshot(path=str(screenshot_dir / "scatter.png"))
    # a second scatter: new points, a new seed
    page.click("#scatter")
    wait(page, f"{STATE}.seed !== {seed} && {STATE}.runs.length === 6")
    assert [tuple(r["start"]) for r in page.evaluate(f"{STATE}.runs")] != starts
