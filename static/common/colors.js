// One accent colour per run, the same list on both pages (Tailwind's 600s, orange first).
export const ACCENTS = [
  "#f97316",
  "#2563eb",
  "#16a34a",
  "#db2777",
  "#7c3aed",
  "#0891b2",
  "#ca8a04",
  "#dc2626",
  "#4f46e5",
  "#059669",
  "#9333ea",
  "#e11d48",
  "#0d9488",
  "#65a30d",
  "#c026d3",
  "#ea580c",
];
