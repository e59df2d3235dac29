// "Your formula": the #formula field. The server checks the text against the formula
// language (POST /api/formulas) and answers with it normalised and its exact gradient and
// Hessian, or a 422 whose detail says what is wrong and where; the page then treats the
// formula as a surface named "custom", sending the text with every request (stateless).

import { escapeHtml } from "../common/format.js";

export const EXAMPLE = "sin(x)*cos(y) + 0.1*(x^2+y^2)";
const $ = (id) => document.getElementById(id);

export const DEFAULT_DOMAIN = [
  [-5, 5],
  [-5, 5],
];

/**
 * Ask the server about `text` over `domain`: {info} when it is a formula, {error} (a
 * sentence) when not.
 */
export async function checkFormula(text, domain = DEFAULT_DOMAIN) {
  const response = await fetch("/api/formulas", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ formula: text, domain }),
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

/** The domain field's four numbers "xmin, xmax, ymin, ymax" as [[x0, x1], [y0, y1]]; or null. */
export function readDomain(text) {
  const numbers = text
    .split(/[\s,;×[\]]+/)
    .filter(Boolean)
    .map(Number);
  if (numbers.length !== 4 || !numbers.every(Number.isFinite)) return null;
  return [numbers.slice(0, 2), numbers.slice(2)];
}

export function showDomain(domain) {
  $("formula-domain").value = domain.flat().join(", ");
}

/** Enter in either field (or the Apply button) applies the formula over the domain given. */
export function wireFormula(apply) {
  const go = () => {
    const domain = readDomain($("formula-domain").value);
    if (!domain) {
      showFormulaError("the domain is four numbers: xmin, xmax, ymin, ymax (e.g. -5, 5, -5, 5)");
      return;
    }
    apply($("formula").value.trim() || EXAMPLE, domain);
  };
  for (const field of [$("formula"), $("formula-domain")]) {
    field.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        go();
      }
    });
    field.addEventListener("input", () => showFormulaError(""));
  }
  $("formula-apply").addEventListener("click", go);
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
