// Where a pointer is in a 2-D Plotly plot: both pages' hover and click handlers ask it.

/** The pointer's place in a 2-D plot's pixel frame, {xa, ya, px, py} (Plotly's axes and the
 *  offsets from the plotting area's corner); null outside the plotting area or before the
 *  plot is laid out. */
export function plotAxes(gd, e) {
  const layout = gd._fullLayout;
  if (!layout || !layout.xaxis || !layout.xaxis._length) return null;
  const box = gd.getBoundingClientRect();
  const xa = layout.xaxis;
  const ya = layout.yaxis;
  const px = e.clientX - box.left - xa._offset;
  const py = e.clientY - box.top - ya._offset;
  if (px < 0 || px > xa._length || py < 0 || py > ya._length) return null;
  return { xa, ya, px, py };
}
