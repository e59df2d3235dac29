// The presenter view (issue 11, item 7): `#embed` in the link's hash (alone or among the
// settings, e.g. `#surface=bowl&embed`) or `?embed=1` hides the controls — the toolbar's
// settings, the formula row, the export and history controls — for slides and iframes. The
// plots, the status, the readout and Play / Step / Reset stay, so a class can still watch
// a run go.

/** True when the page's URL asks for the presenter view. */
export function presenterWanted(location) {
  const query = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const on = (value) => value !== null && value !== "0" && value !== "false";
  return on(query.get("embed")) || on(hash.get("embed"));
}

/** Switch the page in or out of the presenter view; the plots refit their new boxes. */
export function applyPresenter(on) {
  if (document.body.classList.contains("embed") === on) return;
  document.body.classList.toggle("embed", on);
  for (const id of ["contour-field", "contour", "surface3d", "cost", "directional"]) {
    const gd = document.getElementById(id);
    if (gd && gd._fullLayout) Plotly.Plots.resize(gd);
  }
}
