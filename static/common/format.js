// Numbers as a person reads them: a few significant digits, exponents only when needed,
// and never "NaN" or "Infinity" (a dash instead).
export function num(value, digits = 4) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1e5 || size < 1e-3) return value.toExponential(digits - 1).replace("e+", "e");
  return Number(value.toPrecision(digits)).toString();
}

export function speedLabel(speed) {
  return speed === 0 ? "max" : `${speed} steps/s`;
}

export function escapeHtml(text) {
  return String(text).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
  );
}
