// "Scatter N starts": N runs from random points of the domain at once — the way to look for
// the global pit when any one start may end in a local one. The points come from a small
// seeded generator, and every run's noise (langevin, annealing) from the page's seed, so the
// link (which carries the starts and the seed) replays the scatter exactly.

export const SCATTER_DEFAULT = 8;

/** A fresh seed for the noisy optimizers: a whole number below 2³¹. */
export function newSeed() {
  return Math.floor(Math.random() * 2 ** 31);
}

/** mulberry32: a tiny, well-mixed 32-bit generator; numbers in [0, 1). */
export function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` points spread uniformly over the domain ((x0, x1), (y0, y1)), from `seed`. */
export function scatterStarts(domain, n, seed) {
  const random = generator(seed);
  const [[x0, x1], [y0, y1]] = domain;
  const starts = [];
  for (let k = 0; k < n; k++) {
    const x = x0 + (x1 - x0) * (0.03 + 0.94 * random());
    const y = y0 + (y1 - y0) * (0.03 + 0.94 * random());
    starts.push([Number(x.toPrecision(4)), Number(y.toPrecision(4))]);
  }
  return starts;
}

/** Run k's seed: the page's seed plus its place, so each run has its own noise. */
export function runSeed(seed, k) {
  return (seed + k) % 2 ** 32;
}
