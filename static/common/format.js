// Numbers and text as a person reads them, on both pages: a few significant digits,
// exponents only when needed, never "NaN" or "Infinity" (a dash instead).

export function num(value, digits = 4) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1e5 || size < 1e-3) return value.toExponential(digits - 1).replace("e+", "e");
  return Number(value.toPrecision(digits)).toString();
}

/** A whole count with thousands separators: 13002 → "13,002". */
export function count(n) {
  return n.toLocaleString("en-US");
}

/** A share as a percentage: 0.9134 → "91.3 %". */
export function percent(share, digits = 1) {
  return `${(100 * share).toFixed(digits)} %`;
}

export function escapeHtml(text) {
  return String(text).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
  );
}
