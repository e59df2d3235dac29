// "Your formula": the #formula field. The server checks the text against the formula
// language (POST /api/formulas) and answers with it normalised and its exact gradient and
// Hessian, or a 422 whose detail says what is wrong and where; the page then treats the
// formula as a surface named "custom", sending the text with every request (stateless).

import { escapeHtml } from "../common/format.js";

export const EXAMPLE = "sin(x)*cos(y) + 0.1*(x^2+y^2)";
const $ = (id) => document.getElementById(id);

/** Ask the server about `text`: {info} when it is a formula, {error} (a sentence) when not. */
export async function checkFormula(text) {
  const response = await fetch("/api/formulas", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ formula: text }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok) return { info: body };
  return { error: typeof body.detail === "string" ? body.detail : `the server answered ${response.status}` };
}

/** The surface description the page's plots expect, for a checked formula. */
export function customSurface(text, info) {
  const [[x0, x1], [y0, y1]] = info.domain;
  return {
    name: "custom",
    title: "Your formula",
    formula: `f(x, y) = ${info.formula}`,
    description: "",
    domain: info.domain,
    minima: [],
    minima_values: [],
    min_value: null,
    default_start: [x0 + 0.8 * (x1 - x0), y0 + 0.7 * (y1 - y0)], // as app.formula's
    default_lr: 0.01,
    log_color: false,
    text, // what the person typed: it travels with every request
    info,
  };
}

/** The query string that names a surface on the GET routes (with its formula for custom). */
export function surfaceQuery(surface) {
  if (surface.name !== "custom") return "";
  const [[xmin, xmax], [ymin, ymax]] = surface.domain;
  const params = new URLSearchParams({ formula: surface.text, xmin, xmax, ymin, ymax });
  return `&${params}`;
}

/** Enter (or the Apply button) applies the field's text. */
export function wireFormula(apply) {
  const field = $("formula");
  field.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      apply(field.value.trim() || EXAMPLE);
    }
  });
  $("formula-apply").addEventListener("click", () => apply(field.value.trim() || EXAMPLE));
  field.addEventListener("input", () => showFormulaError(""));
}

export function showFormulaError(message) {
  const el = $("formula-error");
  el.textContent = message ? `Not a formula: ${message}` : "";
  el.hidden = !message;
  $("formula").setAttribute("aria-invalid", message ? "true" : "false");
  $("formula-derivatives").hidden = Boolean(message);
}

/** ∇f and the Hessian as text under the field (or a hint while a built-in surface shows). */
export function showDerivatives(surface) {
  const el = $("formula-derivatives");
  if (!surface || surface.name !== "custom") {
    el.innerHTML =
      '<span class="muted">Type f(x, y) — e.g. <code>x^2 + 3*y^2 - x*y</code> — and press ' +
      "Enter: its exact gradient and Hessian appear here.</span>";
    return;
  }
  const [gx, gy] = surface.info.gradient;
  const [[hxx, hxy], [, hyy]] = surface.info.hessian;
  const code = (t) => `<code>${escapeHtml(t)}</code>`;
  el.innerHTML =
    `<span class="part" title="${escapeHtml(`∇f = (${gx}, ${gy})`)}">∇f = (${code(gx)}, ${code(gy)})</span>` +
    `<span class="part" title="${escapeHtml(`H = [[${hxx}, ${hxy}], [${hxy}, ${hyy}]]`)}">` +
    `H = [[${code(hxx)}, ${code(hxy)}], [${code(hxy)}, ${code(hyy)}]]</span>`;
}
