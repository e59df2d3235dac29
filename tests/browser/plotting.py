"""Helpers the browser tests share: waiting on the page, and where a data point is on screen."""

# Page coordinates of a data point of a 2-D Plotly plot: its axes' data-to-pixel maps.
_DATA_TO_PAGE = """([id, x, y]) => {
    const gd = document.getElementById(id);
    const box = gd.getBoundingClientRect();
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return [box.left + xa._offset + xa.c2p(x), box.top + ya._offset + ya.c2p(y)];
}"""


def wait(page, condition: str, timeout: int = 15_000) -> None:
    """Until the JavaScript ``condition`` holds in the page (polled every animation frame)."""
    page.wait_for_function(condition, timeout=timeout)


def plot_pixels(page, plot_id: str, x: float, y: float) -> list[float]:
    """Page coordinates of the data point (x, y) on the 2-D plot ``plot_id``."""
    return page.evaluate(_DATA_TO_PAGE, [plot_id, x, y])


def contour_pixels(page, x: float, y: float) -> list[float]:
    """Page coordinates of (x, y) on the surface lab's contour plot."""
    return plot_pixels(page, "contour", x, y)
