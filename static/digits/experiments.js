// The experiments row: each button trains one network with the bar's hidden sizes, epochs and
// seed and one thing changed, so its curves can be read against the others on the same plots.
// Each says what to look for.

const BASE = { activation: "sigmoid", cost: "quadratic", optimizer: "gd", lr: 3, batch_size: 10, shuffle_labels: false };

export const EXPERIMENTS = {
  baseline: { label: "the videos' net", settings: {},
    note: "Sigmoid neurons, the quadratic cost, mini-batches of 10 at lr 3: the cost falls within the first epoch and test accuracy climbs to ~90 % on the 4,000-digit sample." },
  shuffled: { label: "shuffled labels", settings: { shuffle_labels: true },
    note: "The labels randomly permuted: there is no structure left to find, so the cost stays near 0.9 and test accuracy at chance (10 %) — the network can only memorise." },
  cross_entropy: { label: "cross-entropy", settings: { cost: "cross_entropy", lr: 0.5 },
    note: "Softmax outputs and the cross-entropy cost (lr 0.5, Nielsen's): its cost is on another scale (−log p), so compare the accuracy curves; a wrong answer is punished hard, and learning does not stall where a sigmoid output saturates." },
  relu: { label: "ReLU", settings: { activation: "relu", lr: 0.3 },
    note: "Rectified hidden neurons (lr 0.3: at lr 3 they overshoot and many die): about as good as sigmoids here; their gradient does not vanish for large z." },
  step: { label: "step neurons", settings: { activation: "step" },
    note: "Every neuron a step (1 where z > 0, else 0): the cost is flat — a small change of any weight changes no output — so the gradient is 0 and the curve is a straight line. This is why neurons must be smooth." },
  full: { label: "full batch", settings: { batch_size: "full" },
    note: "One step per epoch, on all the training digits at once: against samples seen it learns far more slowly than mini-batches of 10, which take 400 steps in the same epoch, each a little noisy but each a step." },
};

/** The start message of an experiment, from the bar's settings. */
export function experimentStart(name, bar) {
  const e = EXPERIMENTS[name];
  return { ...bar, ...BASE, ...e.settings };
}
