"""How fast the digit lab answers a person while it trains, in headless Chromium.

Headless Chromium renders in software, like a school laptop without a GPU: what is
slow there is slow for those users. During a batch-10 training of the default
network (1,000 epochs: it runs throughout), this measures, from the input event's own
``timeStamp`` (when the browser got the click or the pen's move) to the change on
the page:

- Pause: the click on ``#pause`` → ``#train-status`` reads "paused…"; then Resume
  → it reads "training…" again (both are timed, several times); and, apart, the click
  → the server's "paused" status taken in by the page (``pause_confirmed``: a round
  trip, during which the page already shows "paused" and draws nothing that moves);
- ``moved_while_paused``: panels that move redrawn between a Pause and its Resume
  (the page's ``gdviz.frames.moved``; 0 expected), ``draws``: how often each panel
  was redrawn since the page loaded (they keep drawing while it trains), and
  ``long_tasks``: the main thread's tasks over 50 ms from the probes on (how many, the
  longest, and their share of the time), while input waits.
- a stroke: each ``pointermove`` over ``#draw`` → the frame after the page has put
  its ink on the canvas (the canvas pixel under the pen is lit, then the next
  animation frame is when it can be seen).

``python -m benchmarks.page_latency`` prints the medians and the worst of each.
"""

from __future__ import annotations

import json
import statistics
import sys

from benchmarks import stream
from benchmarks.browser_stream import ARGS, CHROMIUM

# In the page, before anything is clicked: capture-phase listeners note each input's
# timeStamp; a MutationObserver and animation frames note when the change shows.
PROBES = """
() => {
  const probe = (window.__latency = {pause: [], resume: [], ink: [], pause_confirmed: [],
    moved_while_paused: 0, long_tasks: [], since: performance.now()});
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) probe.long_tasks.push(entry.duration);
  }).observe({type: "longtask"});
  const status = document.getElementById("train-status");
  const frames = () => window.gdviz.frames;
  let clicked = null;
  let movedAtPause = null;
  document.getElementById("pause").addEventListener("click", (event) => {
    const pausing = status.textContent.startsWith("training");
    clicked = {at: event.timeStamp, paused: pausing};
    if (pausing && frames()) {
      movedAtPause = frames().moved;
      const at = event.timeStamp;
      const confirmed = () => {
        const s = window.gdviz.state;
        if (s.paused && !s.wants) probe.pause_confirmed.push(performance.now() - at);
        else if (performance.now() - at < 10000) requestAnimationFrame(confirmed);
      };
      requestAnimationFrame(confirmed);
    } else if (!pausing && movedAtPause !== null) {
      probe.moved_while_paused += frames().moved - movedAtPause;
      movedAtPause = null;
    }
  }, true);
  new MutationObserver(() => {
    if (clicked === null) return;
    const text = status.textContent;
    if (clicked.paused && text.startsWith("paused")) {
      probe.pause.push(performance.now() - clicked.at); clicked = null;
    } else if (!clicked.paused && text.startsWith("training")) {
      probe.resume.push(performance.now() - clicked.at); clicked = null;
    }
  }).observe(status, {childList: true, characterData: true, subtree: true});
  const canvas = document.getElementById("draw");
  const context = canvas.getContext("2d");
  // registered after the page's own listener: runs once the page has drawn the ink
  canvas.addEventListener("pointermove", (event) => {
    if (!event.buttons) return;
    const box = canvas.getBoundingClientRect();
    const x = Math.round((event.clientX - box.left) * canvas.width / box.width);
    const y = Math.round((event.clientY - box.top) * canvas.height / box.height);
    const at = event.timeStamp;
    const check = () => {
      const lit = context.getImageData(x, y, 1, 1).data[0] > 0;
      if (lit) requestAnimationFrame(() => probe.ink.push(performance.now() - at));
      else if (performance.now() - at < 5000) requestAnimationFrame(check);
    };
    check();
  });
}
"""


def measure(pauses: int = 6, strokes: int = 4) -> dict:
    """Medians and maxima (ms) of pause, resume and ink latency during a batch-10 training."""
    from playwright.sync_api import sync_playwright

    with stream.server_process() as (url, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url.replace("ws://", "http://") + "/mnist")
        page.evaluate(PROBES)
        page.fill("#batch-size", "10")
        page.fill("#epochs", "1000")  # minutes at batch 10: it runs throughout
        page.click("#train")
        page.wait_for_function(
            "document.getElementById('train-status').textContent.startsWith('training')",
            timeout=60_000,
        )
        page.wait_for_timeout(1500)  # well into the training: plots busy
        for _ in range(pauses):
            page.click("#pause")  # pause
            page.wait_for_timeout(400)
            page.click("#pause")  # resume
            page.wait_for_timeout(600)
        box = page.locator("#draw").bounding_box()
        for k in range(strokes):
            x0, y0 = box["x"] + 60 + 30 * k, box["y"] + 60
            page.mouse.move(x0, y0)
            page.mouse.down()
            for j in range(1, 15):
                page.mouse.move(x0 + 4 * j, y0 + 10 * j)
                page.wait_for_timeout(30)
            page.mouse.up()
            page.wait_for_timeout(300)
        page.wait_for_timeout(500)
        probe = page.evaluate("({...window.__latency, now: performance.now()})")
        draws = page.evaluate("window.gdviz.frames ? window.gdviz.frames.drawn : null")
        page.click("#stop")
        browser.close()
    moved = probe.pop("moved_while_paused")
    long_tasks = probe.pop("long_tasks")
    span = probe.pop("now") - probe.pop("since")
    return {
        "long_tasks": {
            "count": len(long_tasks),
            "max_ms": round(max(long_tasks, default=0.0), 1),
            "share": round(sum(long_tasks) / span, 3),
        },
        **{name: _summary(values) for name, values in probe.items()},
        "moved_while_paused": moved,
        "draws": draws,
    }


def _summary(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "median_ms": round(statistics.median(values), 1),
        "max_ms": round(max(values), 1),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    print(json.dumps(measure(pauses=3 if quick else 6, strokes=2 if quick else 4), indent=2))


if __name__ == "__main__":
    main()
