// Export (issue 11, item 7): the focused run's path as CSV or JSON, and each plot as PNG or
// SVG. The contour is two stacked Plotly layers on the page, so its picture is drawn once
// more, both layers in one off-screen plot, and that is saved.

const $ = (id) => document.getElementById(id);

/** The run's steps as CSV text: one row per step, lr empty at step 0. */
export function pathCsv(run) {
  const rows = ["i,x,y,f,gx,gy,lr"];
  for (const s of run.steps)
    rows.push([s.i, s.x, s.y, s.f, s.g[0], s.g[1], s.lr === null ? "" : s.lr].join(","));
  return rows.join("\n") + "\n";
}

/** The run with what made it (surface, optimizer, start) and every step, as JSON text. */
export function pathJson(state, run) {
  const surface = state.surface;
  return JSON.stringify(
    {
      surface: surface.name,
      ...(surface.name === "custom" ? { formula: surface.text, domain: surface.domain } : {}),
      run: run.id,
      optimizer: run.optimizer || state.optimizer,
      start: run.start,
      state: run.state,
      steps: run.steps,
    },
    null,
    1,
  );
}

function save(text, type, filename) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000); // after the browser has read it
}

/** The contour's field and live layers drawn together off screen, for one picture. */
async function contourPicture(format, filename) {
  const field = $("contour-field");
  const live = $("contour");
  const box = live.getBoundingClientRect();
  const div = document.createElement("div");
  div.style.cssText = `position:fixed;left:-20000px;top:0;width:${box.width}px;height:${box.height}px`;
  document.body.append(div);
  try {
    const data = JSON.parse(JSON.stringify([...field.data, ...live.data]));
    const layout = JSON.parse(JSON.stringify(field.layout));
    layout.annotations = JSON.parse(JSON.stringify(live.layout.annotations || []));
    layout.showlegend = false;
    await Plotly.newPlot(div, data, layout, { staticPlot: true });
    await Plotly.downloadImage(div, { format, filename, width: box.width, height: box.height });
  } finally {
    Plotly.purge(div);
    div.remove();
  }
}

export function wireExport(state) {
  const focused = () => state.runs.find((r) => r.id === state.focus) || state.runs[0];
  const name = () => `gdviz-${state.surface ? state.surface.name : "lab"}`;
  $("export-csv").addEventListener("click", () => {
    const run = focused();
    if (run) save(pathCsv(run), "text/csv", `${name()}-run-${run.id}.csv`);
  });
  $("export-json").addEventListener("click", () => {
    const run = focused();
    if (run) save(pathJson(state, run), "application/json", `${name()}-run-${run.id}.json`);
  });
  for (const button of document.querySelectorAll("[data-export-plot]")) {
    button.addEventListener("click", () => {
      const plot = button.dataset.exportPlot;
      const format = button.dataset.format;
      const filename = `${name()}-${plot}`;
      if (plot === "contour") return contourPicture(format, filename);
      const gd = $(plot);
      return Plotly.downloadImage(gd, {
        format,
        filename,
        width: gd.clientWidth,
        height: gd.clientHeight,
      });
    });
  }
}
