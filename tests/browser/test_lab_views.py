"""The surface lab's linked views, history, timeline, races, presenter view and export
(issue 11, items 6 and 7), driven in Chromium as a person would: hover, drag, click."""

import csv
import io
import json
import math

import pytest
from playwright.sync_api import expect

from tests.browser.plotting import contour_pixels, plot_pixels, wait

pytestmark = pytest.mark.browser

STATE = "window.gdviz.state"
NAMED = "((plot, name) => document.getElementById(plot).data.filter(t => t.name === name))"
LINKS = "window.gdviz.views.links"


def steps(page, run=0):
    return page.evaluate(f"{STATE}.runs[{run}].steps")


def named(page, plot, name):
    """The traces called `name` on a plot."""
    return page.evaluate(f"document.getElementById('{plot}').data.filter(t => t.name === '{name}')")


def mark(page, plot):
    (trace,) = named(page, plot, "gdviz-mark")
    return trace


def ring(page, plot):
    """The mark on a 2-D plot: a ring shape of fixed pixel size centred on the step."""
    shapes = page.evaluate(f"document.getElementById('{plot}').layout.shapes || []")
    (shape,) = [s for s in shapes if s.get("name") == "gdviz-mark"]
    return shape


# Where Plotly's camera puts a point of the 3-D view on the screen (as its hover labels do).
PROJECT_3D = """([x, y, z]) => {
    const scene = document.getElementById('surface3d')._fullLayout.scene._scene;
    const m = scene.glplot.cameraParams, ds = scene.dataScale;
    const n = [0, 1, 2, 3];
    const mul = (M, v) => n.map(j => n.reduce((s, i) => s + M[4 * i + j] * v[i], 0));
    const p = mul(m.projection, mul(m.view, mul(m.model, [x * ds[0], y * ds[1], z * ds[2], 1])));
    const box = scene.container.getBoundingClientRect();
    return [box.left + (0.5 * p[0] / p[3] + 0.5) * box.width,
            box.top + (0.5 - 0.5 * p[1] / p[3]) * box.height];
}"""


def marked(page):
    """The (run, step) the linked views mark now, or None."""
    return page.evaluate(
        f"(() => {{ const m = {LINKS}.current(); return m && [m.run.id, m.step.i]; }})()"
    )


def check_marks(page, run_index, i):
    """All three plots mark step i of the run, and the readout shows its numbers."""
    step = steps(page, run_index)[i]
    run_id = page.evaluate(f"{STATE}.runs[{run_index}].id")
    wait(page, f"(() => {{ const m = {LINKS}.current(); return m && m.step.i === {i}; }})()")
    assert marked(page) == [run_id, i]
    wait(page, f"{LINKS}.shown.startsWith('{run_id}|{i}|')")  # the frame has drawn it
    contour = ring(page, "contour")
    assert (contour["xanchor"], contour["yanchor"]) == (step["x"], step["y"])
    cost = ring(page, "cost")
    # on a log axis the ring's height is in data units, centred (geometrically) on the step
    y = cost["yanchor"] if "yanchor" in cost else math.sqrt(cost["y0"] * cost["y1"])
    assert (cost["xanchor"], y) == (i, pytest.approx(step["f"]))
    assert contour["label"]["text"] == cost["label"]["text"] == f"step {i}"
    wait(
        page,
        f"{NAMED}('surface3d', 'gdviz-mark').some(t => t.x[0] === {step['x']!r})",
    )
    three = mark(page, "surface3d")
    assert (three["x"], three["y"]) == ([step["x"]], [step["y"]])
    color = page.evaluate(f"{STATE}.runs[{run_index}].color")
    assert contour["line"]["color"] == color and cost["line"]["color"] == color
    readout = page.locator("#readout")
    expect(readout).to_be_visible()
    text = readout.inner_text()
    norm = math.hypot(*step["g"])
    for part in (f"run {run_id}", f"step {i}", "x = ", "y = ", "f = ", "|∇f| = ", "lr = "):
        assert part in text
    assert f"{step['x']:.4g}"[:5] in text.replace("−", "-")
    assert f"{norm:.3g}"[:3] in text


def load_converged(page, live_server, hash_="#surface=himmelblau&speed=0"):
    page.goto(live_server + "/" + hash_)
    wait(page, f"{STATE}.runs.length >= 1 && {STATE}.runs[0].steps.length === 1")
    page.click("#play")
    wait(page, f"{STATE}.runs.every(r => r.state === 'converged')", timeout=30_000)


def test_hover_links_contour_cost_and_3d(live_server, page, screenshot_dir):
    load_converged(page, live_server)
    run = steps(page)
    assert len(run) > 15
    expect(page.locator("#readout")).to_be_hidden()

    # hover step 9 on the contour: all three plots and the readout show step 9
    page.mouse.move(*contour_pixels(page, run[9]["x"], run[9]["y"]))
    check_marks(page, 0, 9)
    page.screenshot(path=str(screenshot_dir / "lab-linked.png"))

    # leave the plot: the mark goes
    page.mouse.move(5, 5)
    wait(page, f"{LINKS}.current() === null")
    expect(page.locator("#readout")).to_be_hidden()

    # hover step 4 on the cost curve
    page.mouse.move(*plot_pixels(page, "cost", 4, run[4]["f"]))
    check_marks(page, 0, 4)
    page.mouse.move(5, 5)

    # on a log cost axis (f − f*, Himmelblau's f* = 0) hovering the curve finds the step too
    page.click("#log-cost")
    wait(page, "document.getElementById('cost').layout.yaxis.type === 'log'")
    page.mouse.move(*plot_pixels(page, "cost", 12, run[12]["f"]))
    check_marks(page, 0, 12)
    page.mouse.move(5, 5)
    page.click("#log-cost")

    # hover an iterate in the 3-D view (found where Plotly's camera draws it)
    points = named(page, "surface3d", "gdviz-steps3d")[0]
    k = 6
    target = page.evaluate(PROJECT_3D, [points["x"][k], points["y"][k], points["z"][k]])
    page.mouse.move(*target)
    wait(page, f"{LINKS}.hover !== null")
    _, i = marked(page)
    assert abs(i - k) <= 2  # neighbouring iterates can lie under the same pixel
    check_marks(page, 0, i)


def test_hover_updates_once_per_frame(live_server, page):
    load_converged(page, live_server)
    run = steps(page)
    points = [contour_pixels(page, s["x"], s["y"]) for s in run[2:12]]
    result = page.evaluate(
        """async ([points]) => {
            const links = window.gdviz.views.links;
            const gd = document.getElementById('contour');
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            const before = links.updates;
            for (const [x, y] of points)  // ten moves within one task, as a fast mouse sends
                gd.dispatchEvent(
                    new PointerEvent('pointermove', {clientX: x, clientY: y, bubbles: true}));
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            return [links.updates - before, links.current().step.i];
        }""",
        [points],
    )
    assert result == [1, 11]  # one update, for the newest position


def test_lr_history_faded_paths_and_one_colour_per_run(live_server, page, screenshot_dir):
    page.goto(live_server + "/#surface=himmelblau&speed=10&starts=-0.5,-0.5;-3,-1")
    wait(page, f"{STATE}.runs.length === 2 && {STATE}.runs.every(r => r.steps.length === 1)")
    page.click("#play")
    wait(page, f"{STATE}.runs[0].steps.length >= 4")
    page.locator("#lr").fill("-2.5")  # lr 0.00316 from the next step on
    wait(page, f"{STATE}.runs.every(r => r.steps.some(s => s.lr === 0.00316))")
    page.locator("#speed").fill("13")
    wait(page, f"{STATE}.runs.every(r => r.state === 'converged')", timeout=30_000)

    # each run's lr change: a diamond on its path, a dotted labelled line on the cost curve
    changes = []
    for k in range(2):
        run = steps(page, k)
        first = next(s for s in run if s["lr"] == 0.00316)
        assert run[first["i"] - 1]["lr"] == 0.01
        changes.append(first)
    wait(
        page,
        f"{NAMED}('contour', 'gdviz-lr').some(t => t.x.length === 2)",
    )
    (marks,) = named(page, "contour", "gdviz-lr")
    assert sorted(zip(marks["x"], marks["y"], strict=True)) == sorted(
        (s["x"], s["y"]) for s in changes
    )
    assert marks["text"] == ["lr 0.00316", "lr 0.00316"]
    layout = page.evaluate("document.getElementById('cost').layout")
    lines = sorted(s["x0"] for s in layout["shapes"] if s["type"] == "line")
    assert lines == sorted(s["i"] for s in changes)
    assert [a["text"] for a in layout["annotations"]] == ["lr 0.00316", "lr 0.00316"]
    page.mouse.move(*contour_pixels(page, changes[0]["x"], changes[0]["y"]))
    check_marks(page, 0, changes[0]["i"])  # hovering the change reads the new lr
    assert "lr = 0.00316" in page.locator("#readout").inner_text()
    page.screenshot(path=str(screenshot_dir / "lab-lr.png"))
    page.mouse.move(5, 5)

    # one colour per run everywhere: contour path, 3-D path, cost curve, lr marks, status list
    colors = page.evaluate(f"{STATE}.runs.map(r => r.color)")
    assert len(set(colors)) == 2
    contour = page.evaluate("document.getElementById('contour').data")
    assert [contour[3 + 3 * k]["line"]["color"] for k in range(2)] == colors
    assert sorted(marks["marker"]["color"]) == sorted(colors)
    wait(page, "document.getElementById('surface3d').data.length >= 5")
    three = page.evaluate("document.getElementById('surface3d').data")
    assert [three[1 + 2 * k]["line"]["color"] for k in range(2)] == colors
    cost = page.evaluate("document.getElementById('cost').data")
    assert [cost[k]["line"]["color"] for k in range(2)] == colors
    swatches = "sel => [...document.querySelectorAll(sel)].map(s => getComputedStyle(s).background)"
    chips = page.evaluate(swatches, "#runs .swatch")
    status = page.evaluate(swatches, "#status .swatch")
    rgb = page.evaluate(
        """colors => colors.map(c => {
            const e = document.createElement('i');
            e.style.background = c;
            document.body.append(e);
            const v = getComputedStyle(e).background;
            e.remove();
            return v;
        })""",
        colors,
    )
    assert chips == rgb and sorted(status) == sorted(rgb)

    # reset: the finished paths stay as faded copies, in their runs' colours, until cleared
    old = [steps(page, k) for k in range(2)]
    page.click("#reset")
    wait(page, f"{STATE}.runs.every(r => r.steps.length === 1)")
    wait(
        page,
        f"{NAMED}('contour', 'gdviz-ghost').length === 2",
    )
    ghosts = named(page, "contour", "gdviz-ghost")
    assert [g["line"]["color"] for g in ghosts] == colors
    for ghost, run in zip(ghosts, old, strict=True):
        assert ghost["x"][0] == run[0]["x"] and ghost["x"][-1] == run[-1]["x"]
        assert ghost["opacity"] < 1
    cost_ghosts = page.evaluate(
        "document.getElementById('cost').layout.shapes.filter(s => s.name === 'gdviz-ghost')"
    )
    assert [g["line"]["color"] for g in cost_ghosts] == colors
    assert cost_ghosts[0]["path"].startswith(f"M0,{old[0][0]['f']}")
    assert page.evaluate("document.getElementById('cost').data.length") == 2  # one per run
    wait(page, f"{NAMED}('surface3d', 'gdviz-ghost').length === 2")  # and in the 3-D view
    ghosts3d = named(page, "surface3d", "gdviz-ghost")
    assert [g["line"]["color"] for g in ghosts3d] == colors
    assert ghosts3d[0]["x"][0] == old[0][0]["x"] and ghosts3d[0]["x"][-1] == old[0][-1]["x"]
    page.screenshot(path=str(screenshot_dir / "lab-history.png"))
    expect(page.locator("#clear-history")).to_be_enabled()
    page.click("#clear-history")
    wait(page, "!document.getElementById('contour').data.some(t => t.name === 'gdviz-ghost')")
    assert not page.evaluate(
        "document.getElementById('cost').layout.shapes.some(s => s.name === 'gdviz-ghost')"
    )
    expect(page.locator("#clear-history")).to_be_disabled()
    wait(page, f"{NAMED}('surface3d', 'gdviz-ghost').length === 0")


def test_timeline_replays_a_finished_run(live_server, page, screenshot_dir):
    page.goto(live_server + "/#surface=himmelblau&speed=5")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    timeline = page.locator("#timeline")
    page.click("#play")
    wait(page, f"{STATE}.runs[0].steps.length >= 3 && {STATE}.runs[0].state === 'running'")
    expect(timeline).to_be_disabled()  # while the run goes on
    expect(page.locator("#timeline-value")).to_have_text("live")
    page.locator("#speed").fill("13")
    wait(page, f"{STATE}.runs[0].state === 'converged'", timeout=30_000)
    last = len(steps(page)) - 1
    expect(timeline).to_be_enabled()
    assert timeline.get_attribute("max") == str(last)
    expect(page.locator("#timeline-value")).to_have_text(f"step {last} / {last}")

    timeline.fill("7")
    check_marks(page, 0, 7)
    expect(page.locator("#timeline-value")).to_have_text(f"step 7 / {last}")
    timeline.focus()
    page.keyboard.press("ArrowLeft")  # a person steps back with the arrow key
    check_marks(page, 0, 6)
    page.screenshot(path=str(screenshot_dir / "lab-timeline.png"))
    # the D_u f plot follows the marked step: its peak at θ = 0 is that step's |∇f|
    norm = math.hypot(*steps(page)[6]["g"])
    wait(page, f"Math.abs(document.getElementById('directional').data[1].y[0] - {norm}) < 1e-9")

    # Replay walks the mark from the slider's place to the end, passing every plot's marker on
    page.click("#replay")
    wait(page, f"{LINKS}.pinned && {LINKS}.pinned.i === {last}", timeout=30_000)
    check_marks(page, 0, last)
    expect(page.locator("#timeline-value")).to_have_text(f"step {last} / {last}")

    # dragging the finished run's start keeps its path, faded, once for the whole drag
    finished = steps(page)
    page.mouse.move(*contour_pixels(page, finished[0]["x"], finished[0]["y"]))
    page.mouse.down()
    page.mouse.move(*contour_pixels(page, 2.0, -3.0), steps=8)
    page.mouse.up()
    wait(page, f"Math.hypot({STATE}.runs[0].steps[0].x - 2, {STATE}.runs[0].steps[0].y + 3) < 0.05")
    wait(page, f"{NAMED}('contour', 'gdviz-ghost').length === 1")
    (ghost,) = named(page, "contour", "gdviz-ghost")
    assert (ghost["x"][0], ghost["y"][0]) == (finished[0]["x"], finished[0]["y"])
    assert (ghost["x"][-1], ghost["y"][-1]) == (finished[-1]["x"], finished[-1]["y"])


def adam(steps_, lr, b1=0.9, b2=0.999, eps=1e-8):
    """torch.optim.Adam's points from the gradients the run reported (an independent check)."""
    x = [steps_[0]["x"], steps_[0]["y"]]
    m = [0.0, 0.0]
    v = [0.0, 0.0]
    points = []
    for t, s in enumerate(steps_[:-1], start=1):
        for d in range(2):
            g = s["g"][d]
            m[d] = b1 * m[d] + (1 - b1) * g
            v[d] = b2 * v[d] + (1 - b2) * g * g
            mhat = m[d] / (1 - b1**t)
            vhat = v[d] / (1 - b2**t)
            x[d] -= lr * mhat / (math.sqrt(vhat) + eps)
        points.append(tuple(x))
    return points


def momentum(steps_, lr, mu=0.9):
    x = [steps_[0]["x"], steps_[0]["y"]]
    b = [0.0, 0.0]
    points = []
    for s in steps_[:-1]:
        for d in range(2):
            b[d] = mu * b[d] + s["g"][d]
            x[d] -= lr * b[d]
        points.append(tuple(x))
    return points


def test_race_momentum_against_adam_from_one_start(live_server, page, browser):
    page.goto(live_server + "/#surface=himmelblau&optimizer=momentum&lr=0.01&speed=0")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    page.select_option("#run-optimizer", "adam")
    page.click("#add-run")
    wait(page, f"{STATE}.runs.length === 2 && {STATE}.runs.every(r => r.steps.length > 30)")
    a, b = steps(page, 0), steps(page, 1)
    assert (a[0]["x"], a[0]["y"]) == (b[0]["x"], b[0]["y"])  # one start
    n = 30
    for got, want in zip(a[1:n], momentum(a[:n], 0.01), strict=True):
        assert (got["x"], got["y"]) == pytest.approx(want, abs=1e-9)
    for got, want in zip(b[1:n], adam(b[:n], 0.01), strict=True):
        assert (got["x"], got["y"]) == pytest.approx(want, abs=1e-9)
    expect(page.locator("#runs li").nth(0)).to_contain_text("momentum")
    expect(page.locator("#runs li").nth(1)).to_contain_text("adam")

    # the race is in the link: opening it gives both runs with their own optimizers
    wait(page, "location.hash.includes('runopt=')")
    link = page.url
    assert "optimizer=momentum" in link and "runopt=%3Badam" in link
    other = browser.new_page()
    other.goto(link)
    wait(other, f"{STATE}.runs.length === 2 && {STATE}.runs.every(r => r.steps.length === 1)")
    assert other.evaluate(f"{STATE}.runs.map(r => r.optimizer)") == [None, "adam"]
    assert other.locator("#optimizer").input_value() == "momentum"
    other.close()


def test_every_setting_in_the_link(live_server, page):
    page.goto(live_server + "/")
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    page.select_option("#surface-select", "rosenbrock")
    wait(page, f"{STATE}.surface.name === 'rosenbrock' && {STATE}.runs[0].steps.length === 1")
    page.select_option("#optimizer", "rmsprop")
    page.locator("#lr").fill("-1.5")
    page.locator("#speed").fill("4")
    page.click("#log-cost")
    wait(page, "location.hash.includes('log=1')")
    link = page.url
    page.goto("about:blank")
    page.goto(link)
    wait(
        page, f"{STATE}.surface && {STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1"
    )
    assert page.locator("#surface-select").input_value() == "rosenbrock"
    assert page.locator("#optimizer").input_value() == "rmsprop"
    assert page.locator("#lr-value").inner_text() == "0.0316"
    assert page.locator("#speed-value").inner_text() == "20 steps/s"
    assert page.locator("#log-cost").is_checked()
    wait(page, "document.getElementById('cost').layout.yaxis.type === 'log'")


@pytest.mark.parametrize("address", ["/?embed=1", "/#surface=bowl&embed"])
def test_presenter_view_hides_the_controls(live_server, page, screenshot_dir, address):
    page.goto(live_server + address)
    wait(page, f"{STATE}.runs.length === 1 && {STATE}.runs[0].steps.length === 1")
    for hidden in ("#surface-select", "#optimizer", "#lr", "#speed", "#formula", "#timeline",
                   "#add-run", "#export-csv", ".topnav"):  # fmt: skip
        expect(page.locator(hidden)).to_be_hidden()
    for shown in ("#contour", "#surface3d", "#cost", "#status", "#play", "#step", "#reset"):
        expect(page.locator(shown)).to_be_visible()
    # the plots take the room the controls left
    height = page.evaluate("document.getElementById('contour').getBoundingClientRect().height")
    assert height > 640
    page.click("#play")
    wait(page, f"{STATE}.runs[0].steps.length > 5")
    assert "embed" in page.url  # the link keeps the presenter view
    if address.startswith("/?"):
        page.screenshot(path=str(screenshot_dir / "lab-presenter.png"))


def test_export_path_and_pictures(live_server, page):
    load_converged(page, live_server)
    run = steps(page)
    page.click(".export summary")

    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    assert download.suggested_filename == "gdviz-himmelblau-run-a.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path()).read())))
    assert len(rows) == len(run)
    for row, step in zip(rows, run, strict=True):
        assert int(row["i"]) == step["i"]
        assert (float(row["x"]), float(row["y"]), float(row["f"])) == (
            step["x"],
            step["y"],
            step["f"],
        )
        assert (float(row["gx"]), float(row["gy"])) == tuple(step["g"])
        assert (row["lr"] == "") if step["lr"] is None else float(row["lr"]) == step["lr"]

    with page.expect_download() as info:
        page.click("#export-json")
    saved = json.loads(open(info.value.path()).read())
    assert saved["surface"] == "himmelblau" and saved["optimizer"] == "gd"
    assert saved["start"] == [-0.5, -0.5] and saved["state"] == "converged"
    assert saved["steps"] == run

    for plot, fmt, magic in (
        ("contour", "png", b"\x89PNG"),
        ("contour", "svg", b"<svg"),
        ("cost", "svg", b"<svg"),
        ("cost", "png", b"\x89PNG"),
        ("surface3d", "png", b"\x89PNG"),
    ):
        with page.expect_download(timeout=30_000) as info:
            page.click(f"[data-export-plot={plot}][data-format={fmt}]")
        assert info.value.suggested_filename == f"gdviz-himmelblau-{plot}.{fmt}"
        content = open(info.value.path(), "rb").read()
        assert content.startswith(magic) or (fmt == "svg" and magic in content[:200])
        if plot == "contour" and fmt == "svg":
            text = content.decode()
            assert "start" in text and "min" in text  # both layers: the live one's labels
            assert text.count("<path") > 20  # and the field's contour lines
