"""The surface lab's typed formula, the directional-derivative plot and the lr stability hint,
in Chromium."""

import math

import numpy as np
import pytest
from playwright.sync_api import expect

from app.stability import lr_limit
from app.surfaces import SURFACES

pytestmark = pytest.mark.browser

STATE = "window.gdviz.state"
ON_CUSTOM = f"{STATE}.surface && {STATE}.surface.name === 'custom' && {STATE}.runs[0].steps.length"
QUADRATIC = "x^2 + 3*y^2 - x*y"
LIMIT = 2 / (4 + math.sqrt(5))  # 2/λ_max of [[2, −1], [−1, 6]]: 0.3213


@pytest.fixture
def page(browser):
    """conftest's page, except that a refused formula's 422 is expected, not a fault: Chromium
    logs every 4xx response as a console error, so exactly those (POST /api/formulas) pass."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    new_page = context.new_page()
    problems: list[str] = []
    new_page.on("pageerror", lambda err: problems.append(f"page error: {err}"))

    def on_console(message):
        expected = (
            message.location.get("url", "").endswith("/api/formulas") and "422" in message.text
        )
        if message.type == "error" and not expected:
            problems.append(f"console {message.type}: {message.text}")

    new_page.on("console", on_console)
    yield new_page
    context.close()
    assert not problems, "\n".join(problems)


def wait(page, condition, timeout=15_000):
    page.wait_for_function(condition, timeout=timeout)


def apply_formula(page, text):
    page.locator("#formula").fill(text)
    page.locator("#formula").press("Enter")


def test_a_typed_formula_becomes_a_surface(live_server, page, screenshot_dir):
    page.goto(live_server + "/")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    expect(page.locator("#formula")).to_be_visible()

    # Himmelblau's demo start is beside its maximum: nothing curves upwards there, so the
    # lr hint uses the listed minimum nearest the start, and says so
    himmelblau = SURFACES["himmelblau"]
    nearest = min(himmelblau.minima, key=lambda m: math.hypot(m[0] + 0.5, m[1] + 0.5))
    limit = lr_limit(himmelblau.hessian(*nearest))
    hint = page.locator("#stability")
    expect(hint).to_contain_text(f"stable for lr < {limit:.3g}")
    expect(hint).to_contain_text(f"at the nearest minimum ({nearest[0]:.3g}, {nearest[1]:.3g})")
    assert page.locator("#surface-select option[value=custom]").inner_text() == "Your formula"

    # a bad formula: an inline error under the field, naming what and where; nothing changes
    apply_formula(page, "z + 1")
    expect(page.locator("#formula-error")).to_be_visible()
    expect(page.locator("#formula-error")).to_contain_text("unknown name 'z' at column 1")
    assert page.evaluate(f"{STATE}.surface.name") == "himmelblau"
    apply_formula(page, "__import__('os').system('id')")
    expect(page.locator("#formula-error")).to_contain_text("column 1")
    page.screenshot(path=str(screenshot_dir / "lab-formula-error.png"))

    # a good one: contour, 3-D and cost drawn for it; its exact gradient and Hessian shown
    apply_formula(page, QUADRATIC)
    wait(page, f"{STATE}.surface.name === 'custom' && {STATE}.runs[0].steps.length === 1")
    expect(page.locator("#formula-error")).to_be_hidden()
    derivatives = page.locator("#formula-derivatives")
    expect(derivatives).to_contain_text("∇f = (2*x - y, -x + 6*y)")
    expect(derivatives).to_contain_text("H = [[2, -1], [-1, 6]]")
    expect(page.locator("#surface-formula")).to_have_text("f(x, y) = x^2 - x*y + 3*y^2")
    assert page.locator("#surface-select").input_value() == "custom"
    field = page.evaluate("document.getElementById('contour-field').data[0]")
    x, y = field["x"][30], field["y"][70]
    assert field["z"][70][30] == pytest.approx(x * x + 3 * y * y - x * y)
    assert field["x"][0] == -5 and field["x"][-1] == 5
    assert page.evaluate("document.getElementById('surface3d').data[0].type") == "surface"
    start = page.evaluate(f"{STATE}.runs[0].steps[0]")
    assert (start["x"], start["y"]) == (3.0, 2.0)  # the default start: 80 %, 70 % across
    assert start["g"] == [2 * 3 - 2, -3 + 6 * 2]
    assert "surface=custom" in page.url and "formula=" in page.url

    # the stability hint: 2/λ_max of the exact Hessian, 0.321 under plain GD
    expect(page.locator("#stability")).to_contain_text("stable for lr < 0.321")
    expect(page.locator("#stability")).to_contain_text("plain GD")
    page.locator("#lr").fill("-0.2")  # lr = 0.631: past the limit
    expect(page.locator("#stability")).to_contain_text("⚠ lr past 0.321")
    assert page.locator("#stability button.over").count() == 1
    page.screenshot(path=str(screenshot_dir / "lab-formula-unstable.png"))
    page.locator("#stability button").click()  # sets lr just below the limit
    expect(page.locator("#lr-value")).to_have_text("0.314")
    assert page.evaluate(f"{STATE}.lr") == 0.314 < LIMIT
    expect(page.locator("#stability")).to_contain_text("stable for lr < 0.321")
    page.select_option("#optimizer", "momentum")
    expect(page.locator("#stability")).to_contain_text(f"stable for lr < {3.8 / (4 + 5**0.5):.3f}")
    page.select_option("#optimizer", "adam")
    expect(page.locator("#stability")).to_contain_text("no fixed lr limit")
    page.select_option("#optimizer", "gd")

    # the directional derivative at the current point: |∇f| cos θ, peak |∇f| at θ = 0
    norm = math.hypot(*start["g"])
    wait(page, f"Math.abs(document.getElementById('directional').data[1].y[0] - {norm}) < 1e-9")
    curve = page.evaluate("document.getElementById('directional').data[0]")
    for theta, slope in zip(curve["x"], curve["y"], strict=True):
        assert slope == pytest.approx(norm * math.cos(theta), abs=1e-12)
    assert max(curve["y"]) == pytest.approx(norm) and min(curve["y"]) == pytest.approx(-norm)
    expect(page.locator("#directional-caption")).to_contain_text(f"|∇f| = {norm:.3g}: the steepest")
    # the dial: ∇f at the gradient's angle on the plane (SVG turns clockwise, hence −)
    arrows = page.locator("#direction-dial g.arrow")
    ascent = arrows.nth(1).get_attribute("transform")
    angle = math.degrees(math.atan2(start["g"][1], start["g"][0]))
    assert ascent.startswith("rotate(") and float(ascent[7:].split(")")[0]) == pytest.approx(-angle)
    # hovering the plot at θ = π/2 turns u a quarter turn from ∇f: a level direction
    box = page.locator("#directional").bounding_box()
    px, py = page.evaluate(
        """() => {
            const gd = document.getElementById('directional');
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return [xa._offset + xa.l2p(Math.PI / 2), ya._offset + ya.l2p(0)];
        }"""
    )
    page.mouse.move(box["x"] + px, box["y"] + py)
    u = page.locator("#direction-dial g.arrow.u")
    expect(u).to_be_visible()
    assert float(u.get_attribute("data-theta")) == pytest.approx(math.pi / 2, abs=0.02)
    turned = float(u.get_attribute("transform")[7:].split(")")[0])
    assert turned == pytest.approx(-angle - 90, abs=1.5)
    page.mouse.move(0, 0)

    # a run on the formula converges to its minimum (0, 0) below the limit
    page.locator("#speed").fill("13")
    page.click("#play")
    wait(page, f"{STATE}.runs[0].state === 'converged'")
    end = page.evaluate(f"{STATE}.runs[0].steps.at(-1)")
    assert math.hypot(end["x"], end["y"]) < 1e-5
    assert page.evaluate(f"{STATE}.runs[0].steps.every(s => s.lr === null || s.lr === 0.314)")
    # the plot follows the point: at the minimum the gradient, and so the curve, is ~flat
    wait(page, "Math.max(...document.getElementById('directional').data[0].y) < 1e-5")
    expect(page.locator("#stability")).to_contain_text("at the point reached")
    page.screenshot(path=str(screenshot_dir / "lab-formula.png"))

    # the link keeps the formula: a fresh page opens on it
    link = page.url
    page.goto("about:blank")
    page.goto(link)
    wait(
        page,
        f"{STATE}.surface && {STATE}.surface.name === 'custom' && {STATE}.runs[0].steps.length",
    )
    assert page.locator("#formula").input_value() == QUADRATIC
    assert page.evaluate(f"{STATE}.lr") == 0.314

    # another domain, typed beside the formula: the plots span it, the link keeps it
    page.locator("#formula-domain").fill("-2, 2, -1, 3")
    page.locator("#formula-domain").press("Enter")
    wait(page, f"{STATE}.surface.domain[1][1] === 3 && {STATE}.runs[0].steps.length === 1")
    field = page.evaluate("document.getElementById('contour-field').data[0]")
    assert (field["x"][0], field["x"][-1], field["y"][0], field["y"][-1]) == (-2, 2, -1, 3)
    start = page.evaluate(f"{STATE}.runs[0].steps[0]")
    assert (start["x"], start["y"]) == pytest.approx((1.2, 1.8))  # 80 %, 70 % across
    assert "domain=-2%2C2%2C-1%2C3" in page.url
    page.locator("#formula-domain").fill("2, -2, 0, 1")
    page.locator("#formula-domain").press("Enter")
    expect(page.locator("#formula-error")).to_contain_text("xmin < xmax")
    page.goto("about:blank")
    page.goto(live_server + "/#surface=custom&formula=x%5E2&domain=0,1,0,2&starts=0.5,1")
    wait(page, f"{ON_CUSTOM} && {STATE}.surface.domain[1][1] === 2")
    assert page.locator("#formula-domain").input_value() == "0, 1, 0, 2"
    assert page.evaluate(f"{STATE}.runs[0].steps[0].x") == 0.5

    # back to a built-in surface; "Your formula" in the select brings the formula back
    page.select_option("#surface-select", "bowl")
    wait(page, f"{STATE}.surface.name === 'bowl' && {STATE}.runs[0].steps.length === 1")
    expect(page.locator("#stability")).to_contain_text("stable for lr < 1")  # 2/λ_max = 2/2
    page.select_option("#surface-select", "custom")
    wait(page, f"{STATE}.surface.name === 'custom' && {STATE}.runs[0].steps.length === 1")


def test_holes_where_a_formula_is_undefined(live_server, page, screenshot_dir):
    """log(x) is undefined for x ≤ 0: the grid has holes there, and a run that steps into them
    diverges, explained, instead of producing NaN."""
    page.goto(live_server + "/#surface=custom&formula=log(x)%2By%5E2&lr=2&starts=1,1&speed=0")
    wait(page, ON_CUSTOM)
    z = page.evaluate("document.getElementById('contour-field').data[0].z")
    assert z[0][0] is None and z[0][-1] is not None
    page.click("#play")
    wait(page, f"{STATE}.runs[0].state === 'diverged'")
    expect(page.locator("#status")).to_contain_text("diverged")
    assert "NaN" not in page.locator("#status").inner_text()

    # undefined on the whole domain: said under the field, and the surface on show stays
    page.locator("#formula").fill("log(x - 10)")
    page.locator("#formula").press("Enter")
    expect(page.locator("#formula-error")).to_contain_text("not defined anywhere on this domain")
    assert page.evaluate(f"{STATE}.surface.text") == "log(x)+y^2"


def test_the_page_and_the_server_compute_the_same_limit(live_server, page):
    """static/lab/stability.js against app/stability.py on random Hessians and optimizers."""
    page.goto(live_server + "/")
    rng = np.random.default_rng(3)
    cases = [
        [[[float(a), float(b)], [float(b), float(c)]], name]
        for a, b, c in rng.normal(0, 5, (60, 3))
        for name in ("gd", "momentum", "nesterov", "adam")
    ]
    cases.append([[[2.0, -1.0], [-1.0, 6.0]], "gd"])
    limits = page.evaluate(
        """async (cases) => {
            const m = await import('/static/lab/stability.js');
            return cases.map(([h, name]) => m.lrLimit(h, name));
        }""",
        cases,
    )
    for (hessian, name), limit in zip(cases, limits, strict=True):
        expected = lr_limit(hessian, name, 0.9)
        if expected is None:
            assert limit is None
        else:
            assert limit == pytest.approx(expected, rel=1e-14)
    assert round(limits[-1], 3) == 0.321
