"""The digit lab's landscape and confusion matrix in Chromium: drawn while a network trains,
with no click, refreshed as it goes; a cell's mistakes; a mistake loaded into the pad."""

import pytest

from tests.browser.test_mnist_page import draw_one

pytestmark = pytest.mark.browser
STATE = "window.gdviz.state"
VIEWS = "window.gdviz.views"
STATUS = "document.getElementById('train-status').textContent"


def click_cell(page, true_digit, predicted):
    """Click the confusion matrix's cell (true, predicted) where a person would."""
    page.locator("#confusion").scroll_into_view_if_needed()
    x, y = page.evaluate(
        """([t, p]) => {
          const el = document.getElementById('confusion'), L = el._fullLayout;
          const box = el.getBoundingClientRect();
          return [box.left + L._size.l + L.xaxis.l2p(p), box.top + L._size.t + L.yaxis.l2p(t)];
        }""",
        [true_digit, predicted],
    )
    page.mouse.click(x, y)


def test_landscape_and_confusion_draw_themselves_while_training(live_server, page, mnist,
                                                                screenshot_dir):  # fmt: skip
    page.goto(live_server + "/mnist")
    page.wait_for_function("document.getElementById('data-source').textContent.includes('train')")
    # backprop before anything is saved: the panel says what to do
    page.click("#backprop")
    page.wait_for_function("document.getElementById('backprop-note').textContent.includes('draw')")
    page.locator("#draw").scroll_into_view_if_needed()  # the click scrolled down to the panel
    draw_one(page)
    page.click("#backprop")
    page.wait_for_function("document.getElementById('backprop-note').textContent.includes('Save')")
    page.click("#clear")
    page.locator("#epochs").fill("50")  # long enough to pause it after its first landscape
    page.click("#train")
    # no click: both draw during the training
    page.wait_for_function("document.getElementById('confusion').data?.length === 2")
    page.wait_for_function(f"{VIEWS}.landscape.shown !== null", timeout=30_000)
    first = page.evaluate(f"{VIEWS}.landscape.shown.step")
    assert page.evaluate(f"{STATE}.training"), "the first landscape should come mid-training"
    contour = page.evaluate("document.getElementById('landscape').data")
    assert contour[0]["type"] == "contour" and len(contour[0]["z"]) == 41
    assert contour[1]["x"][-1] == 0 and contour[1]["y"][-1] == 0  # the path ends at the centre
    assert "variance" in page.locator("#landscape-explained").inner_text()
    # paused: neither picture moves, even for a landscape asked for just before the pause
    page.click("#pause")
    page.wait_for_function(f"{STATUS}.startsWith('paused')")
    seen = page.evaluate(f"[{VIEWS}.landscape.shown.step, {VIEWS}.confusion.shown.source]")
    page.wait_for_function(f"!{VIEWS}.scape.pending")  # whatever was asked has come
    page.click("#save")  # a round trip: whatever was sent before the pause has come before it
    page.wait_for_function(f"{STATE}.savedModel")
    page.evaluate("new Promise(r => setTimeout(() => requestAnimationFrame(r), 500))")  # redraws
    assert page.evaluate(f"[{VIEWS}.landscape.shown.step, {VIEWS}.confusion.shown.source]") == seen
    page.click("#pause")
    page.wait_for_function(f"{STATUS}.startsWith('training')")
    # it refreshes as training goes on
    page.wait_for_function(f"{VIEWS}.landscape.shown.step > {first}", timeout=30_000)
    page.wait_for_function(f"{STATUS}.includes('finished')", timeout=120_000)
    page.wait_for_function(f"{VIEWS}.landscape.shown.step === {STATE}.lastStep.step")
    confusion = page.evaluate(f"{STATE}.lastEval.confusion")
    # the gradient's size per layer over the training: one line per layer, one point per eval
    sizes = page.evaluate("document.getElementById('gradient-size').data")
    assert [t["name"] for t in sizes] == ["hidden layer 1", "hidden layer 2", "output layer"]
    assert len(sizes[0]["y"]) >= 10 and all(v > 0 for t in sizes for v in t["y"])
    assert sum(map(sum, confusion)) == len(mnist.y_test)
    page.locator("#landscape-panel, .landscape-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "mnist-insight.png"), full_page=True)

    # click the cell of the commonest mistake: its digits appear with probabilities
    cells = [(v, t, p) for t, row in enumerate(confusion) for p, v in enumerate(row) if t != p]
    count, t, p = max(cells)
    click_cell(page, t, p)
    page.wait_for_function("document.querySelectorAll('#mistakes .mistake').length > 0")
    shown = page.locator("#mistakes .mistake").count()
    assert shown == min(count, 48)
    assert f"labelled {t}" in page.locator("#mistakes-title").inner_text()
    assert "%" in page.locator("#mistakes .mistake small").first.inner_text()
    # a digit clicked goes onto the pad and is classified
    page.evaluate(f"{STATE}.prediction = null")
    page.locator("#mistakes .mistake").first.click()
    page.wait_for_function(f"{STATE}.prediction !== null")
    assert page.evaluate(f"{STATUS}").startswith(f"a test digit labelled {t}")
    inked = page.evaluate(
        """() => { const c = document.getElementById('draw').getContext('2d');
                   const d = c.getImageData(0, 0, 280, 280).data; let s = 0;
                   for (let k = 0; k < d.length; k += 4) s += d[k]; return s; }"""
    )
    assert inked > 0
    page.screenshot(path=str(screenshot_dir / "mnist-mistakes.png"), full_page=True)

    # backprop of that digit through the network saved now
    page.click("#save")
    page.wait_for_function(f"{STATUS}.includes('saved')")
    assert page.locator("#backprop-label").input_value() == str(t)  # the mistake's label
    page.click("#backprop")
    page.wait_for_function(f"{VIEWS}.backprop.shown !== null")
    nudges = page.evaluate("document.getElementById('nudges-output').data[0].y")
    assert len(nudges) == 10 and nudges[t] > 0  # the right digit is pushed up…
    assert all(v < 0 for k, v in enumerate(nudges) if k != t)  # …every other one down
    hidden = page.evaluate("document.getElementById('nudges-hidden').data[0].y")
    assert len(hidden) == 32
    assert page.locator("#weight-gradients .pair canvas").count() == 32  # 16 weights, 16 wants
    page.locator(".backprop-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "mnist-backprop.png"), full_page=True)

    # the 3-D view of the same landscape, the path drawn on the surface
    page.locator("#landscape-3d").check()
    page.wait_for_function("document.getElementById('landscape').data[0].type === 'surface'")
    path3d = page.evaluate("document.getElementById('landscape').data[1]")
    shown = page.evaluate(f"{VIEWS}.landscape.shown")
    assert path3d["type"] == "scatter3d" and len(path3d["z"]) == len(shown["path"])
    # "now" sits on the centre cell (heights are log10 of the cost)
    assert 10 ** path3d["z"][-1] == pytest.approx(shown["cost"][20][20])
    page.locator(".landscape-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "mnist-landscape-3d.png"))
    page.locator("#landscape-3d").uncheck()
    page.wait_for_function("document.getElementById('landscape').data[0].type === 'contour'")

    # the other plane
    page.select_option("#landscape-method", "random")
    page.wait_for_function(f"{VIEWS}.landscape.shown.method === 'random'")
    assert "random" in page.locator("#landscape-explained").inner_text()


def test_experiments_run_with_one_click_each_on_one_plot(live_server, page, mnist, screenshot_dir):
    page.goto(live_server + "/mnist")
    page.wait_for_function("document.getElementById('data-source').textContent.includes('train')")
    page.locator("#epochs").fill("2")
    page.click("[data-experiment=baseline]")
    page.wait_for_function(f"{STATUS}.includes('finished')")
    page.click("[data-experiment=step]")
    assert "smooth" in page.locator("#experiment-note").inner_text()
    page.wait_for_function("document.getElementById('cost').data.length === 6")
    page.wait_for_function(f"{STATUS}.includes('finished')")
    page.click("[data-experiment=full]")
    page.wait_for_function("document.getElementById('cost').data.length === 9")
    page.wait_for_function(f"{STATUS}.includes('finished')")
    names = page.evaluate("document.getElementById('cost').data.map(t => t.name)")
    assert {"run 1 (the videos' net)", "run 2 (step neurons)", "run 3 (full batch)"} <= set(names)
    tests = page.evaluate("document.getElementById('cost').data.map(t => t.y)")
    step_test_costs = tests[5]  # run 2's test-cost diamonds: flat, nothing descends
    assert len(step_test_costs) >= 2 and len(set(step_test_costs)) == 1
    assert tests[2][-1] < tests[2][0] / 2  # the videos' net learned
    assert tests[8][-1] > tests[2][-1]  # two full-batch steps learn far less than 800 small ones
    # two steps make no principal directions: the panel says so, and shows nothing of run 2's
    page.wait_for_function(
        "document.getElementById('landscape-note').textContent.includes('too few points')"
    )
    assert page.evaluate(f"{VIEWS}.landscape.shown") is None
    assert page.locator("#landscape-explained").inner_text() == ""
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("window.gdviz.frames.panels.every(p => !p.visible || !p.dirty())")
    page.screenshot(path=str(screenshot_dir / "mnist-experiments.png"))


def test_the_saved_networks_failures_show_on_load(live_server, page, mnist):
    from app.mnist.evaluation import evaluate_network
    from app.mnist.model_store import save_network
    from app.mnist.training import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(epochs=1), mnist)
    trainer.run(trainer.total_steps)
    save_network(trainer.network)
    expected = evaluate_network(trainer.network, mnist.x_test, mnist.y_test)
    page.goto(live_server + "/mnist")
    page.wait_for_function("document.getElementById('confusion').data?.length === 2")
    assert "the saved network" in page.evaluate(f"{VIEWS}.confusion.shown.source")
    assert page.evaluate(f"{VIEWS}.confusion.shown.confusion") == expected["confusion"]
    cell, indices = max(expected["mistakes"].items(), key=lambda item: len(item[1]))
    t, p = map(int, cell.split(","))
    click_cell(page, t, p)
    page.wait_for_function("document.querySelectorAll('#mistakes .mistake').length > 0")
    assert "the saved network" in page.locator("#mistakes-title").inner_text()
    shown = page.evaluate(
        "[...document.querySelectorAll('#mistakes .mistake')].map(e => +e.dataset.index)"
    )
    assert shown == indices[:48]

    # a random test digit onto the pad, its label picked, and its backprop
    page.click("#test-digit")
    page.wait_for_function(
        "document.getElementById('backprop-note').textContent.includes('test digit #')"
    )
    note = page.locator("#backprop-note").inner_text()
    index, label = int(note.split("#")[1].split(",")[0]), int(note.split("labelled ")[1][0])
    assert label == mnist.y_test[index]
    assert page.locator("#backprop-label").input_value() == str(label)
    page.click("#backprop")
    page.wait_for_function(
        f"{VIEWS}.backprop.shown !== null && {VIEWS}.backprop.shown.label === {label}"
    )
