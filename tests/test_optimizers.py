"""Optimizers: updates worked by hand, and torch.optim itself as a second implementation."""

import math

import numpy as np
import pytest
import torch

from app.optimizers import OPTIMIZERS, make_optimizer


def run(name, grads, lr, x0=1.0, **hyper):
    """Step one optimizer on a single scalar parameter; return the positions after each step."""
    opt = make_optimizer(name, lr, hyper)
    x = np.array([x0])
    out = []
    for g in grads:
        opt.step([x], [np.array([g])])
        out.append(float(x[0]))
    return out


# --- three steps of each rule, worked by hand ------------------------------------------


def test_gd_by_hand_on_a_vector():
    opt = make_optimizer("gd", 0.1)
    x = np.array([1.0, -2.0])
    seen = []
    for g in ([2.0, -1.0], [-1.0, 4.0], [0.5, 0.5]):
        opt.step([x], [np.array(g)])
        seen.append(x.tolist())
    # x -= 0.1·g: [1 − 0.2, −2 + 0.1], then [0.8 + 0.1, −1.9 − 0.4], then [0.9 − 0.05, −2.3 − 0.05]
    assert seen == [
        pytest.approx([0.8, -1.9], rel=1e-15),
        pytest.approx([0.9, -2.3], rel=1e-15),
        pytest.approx([0.85, -2.35], rel=1e-15),
    ]


def test_momentum_by_hand():
    # b = 0.9·b + g; x -= 0.1·b
    # b1 = 2, x1 = 1 − 0.2 = 0.8; b2 = 1.8 + 1 = 2.8, x2 = 0.8 − 0.28 = 0.52;
    # b3 = 2.52 − 1 = 1.52, x3 = 0.52 − 0.152 = 0.368
    assert run("momentum", [2.0, 1.0, -1.0], 0.1) == pytest.approx([0.8, 0.52, 0.368], rel=1e-14)


def test_nesterov_by_hand():
    # b = 0.9·b + g; x -= 0.1·(g + 0.9·b)
    # b1 = 2, x1 = 1 − 0.1·3.8 = 0.62; b2 = 2.8, x2 = 0.62 − 0.1·3.52 = 0.268;
    # b3 = 1.52, x3 = 0.268 − 0.1·(−1 + 1.368) = 0.2312
    got = run("nesterov", [2.0, 1.0, -1.0], 0.1)
    assert got == pytest.approx([0.62, 0.268, 0.2312], rel=1e-14)


def test_adagrad_by_hand():
    # G += g²; x -= 0.5·g/(√G + 1e-10)
    # G1 = 4: x1 = 1 − 1/2 = 0.5; G2 = 6.25: x2 = 0.5 − 0.75/2.5 = 0.2;
    # G3 = 10.25: x3 = 0.2 + 1/√10.25 = 0.5123475237772122
    got = run("adagrad", [2.0, 1.5, -2.0], 0.5)
    assert got == pytest.approx([0.5, 0.2, 0.5123475237772122], rel=1e-9)  # eps moves digit 10
    eps = 1e-10
    x1 = 1 - 1 / (2 + eps)
    x2 = x1 - 0.75 / (2.5 + eps)
    assert got == pytest.approx([x1, x2, x2 + 1 / (math.sqrt(10.25) + eps)], rel=1e-15)


def test_rmsprop_by_hand():
    # v = 0.99·v + 0.01·g²; x -= 0.01·g/(√v + 1e-8)
    # v1 = 0.04: x1 = 1 − 0.02/0.2 = 0.9; v2 = 0.0796: x2 = 0.9 − 0.02/√0.0796;
    # v3 = 0.078804 + 0.01 = 0.088804: x3 = x2 + 0.01/√0.088804
    got = run("rmsprop", [2.0, 2.0, -1.0], 0.01)
    assert got == pytest.approx([0.9, 0.8291118794991664, 0.8626689264790321], rel=1e-7)
    eps = 1e-8
    x1 = 1 - 0.02 / (0.2 + eps)
    x2 = x1 - 0.02 / (math.sqrt(0.0796) + eps)
    x3 = x2 + 0.01 / (math.sqrt(0.088804) + eps)
    assert got == pytest.approx([x1, x2, x3], rel=1e-14)


def test_adam_by_hand():
    # Textbook form: m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², m̂ = m/(1−β1ᵗ),
    # v̂ = v/(1−β2ᵗ), x -= lr·m̂/(√v̂ + eps); lr 0.1, β = (0.9, 0.999), eps 1e-8.
    # t=1: m = 0.2, v = 0.004, m̂ = 2, v̂ = 4: x1 = 1 − 0.1·2/2 = 0.9 (the first step is lr·sign g)
    # t=2: m = 0.28, v = 0.004996, m̂ = 0.28/0.19, v̂ = 0.004996/0.001999
    # t=3: m = 0.252 − 0.2 = 0.052, v = 0.004991004 + 0.004 = 0.008991004
    got = run("adam", [2.0, 1.0, -2.0], 0.1)
    assert got[0] == pytest.approx(0.9, rel=1e-8)
    eps = 1e-8
    x1 = 1 - 0.1 * 2 / (2 + eps)
    x2 = x1 - 0.1 * (0.28 / 0.19) / (math.sqrt(0.004996 / 0.001999) + eps)
    m3, v3 = 0.052 / (1 - 0.9**3), 0.008991004 / (1 - 0.999**3)
    x3 = x2 - 0.1 * m3 / (math.sqrt(v3) + eps)
    assert got == pytest.approx([x1, x2, x3], rel=1e-13)


# --- behaviour the descent and the training loop rely on -------------------------------


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_lr_change_between_steps_takes_effect(name):
    """Changing ``lr`` scales exactly the next update (the optimizer state is unaffected)."""
    grads = [0.3, -0.2, 0.5]
    slow = make_optimizer(name, 0.01)
    fast = make_optimizer(name, 0.01)
    a, b = np.array([1.0]), np.array([1.0])
    for g in grads[:2]:
        slow.step([a], [np.array([g])])
        fast.step([b], [np.array([g])])
    assert a[0] == b[0]
    before = a[0]
    fast.lr = 0.04
    slow.step([a], [np.array([grads[2]])])
    fast.step([b], [np.array([grads[2]])])
    assert b[0] - before == pytest.approx(4 * (a[0] - before), rel=1e-12)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_stays_float32(name):
    opt = make_optimizer(name, 0.01)
    a = np.ones((3, 2), dtype=np.float32)
    b = np.ones(4, dtype=np.float32)
    reference = [np.ones((3, 2)), np.ones(4)]
    reference_opt = make_optimizer(name, 0.01)
    for _ in range(3):
        grads = [np.full((3, 2), 0.5, dtype=np.float32), np.full(4, -0.25, dtype=np.float32)]
        opt.step([a, b], grads)
        reference_opt.step(reference, [g.astype(np.float64) for g in grads])
    assert a.dtype == np.float32 and b.dtype == np.float32
    assert all(s[k].dtype == np.float32 for s in opt.state for k in s)
    np.testing.assert_allclose(a, reference[0], rtol=1e-5)
    np.testing.assert_allclose(b, reference[1], rtol=1e-5)
    assert np.all(a < 1) and np.all(b > 1)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_is_per_array(name):
    """Stepping two arrays together equals stepping each with its own optimizer."""
    rng = np.random.default_rng(7)
    together = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    alone = [p.copy() for p in together]
    opt = make_optimizer(name, 0.05)
    solo = [make_optimizer(name, 0.05) for _ in alone]
    for _ in range(5):
        grads = [rng.standard_normal(p.shape) for p in together]
        opt.step(together, grads)
        for o, p, g in zip(solo, alone, grads, strict=True):
            o.step([p], [g])
    for p, q in zip(together, alone, strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_reset_forgets_all_state(name):
    opt = make_optimizer(name, 0.1)
    x = np.array([1.0, 2.0])
    for g in ([1.0, -1.0], [0.5, 2.0]):
        opt.step([x], [np.array(g)])
    opt.reset()
    y = np.array([1.0, 2.0])
    x[:] = y
    fresh = make_optimizer(name, 0.1)
    opt.step([x], [np.array([0.3, 0.4])])
    fresh.step([y], [np.array([0.3, 0.4])])
    np.testing.assert_array_equal(x, y)


def test_unknown_optimizer_is_explained():
    with pytest.raises(ValueError, match=r"unknown optimizer 'sgdx' \(choose from gd, momentum"):
        make_optimizer("sgdx", 0.1)


@pytest.mark.parametrize(
    ("name", "hyper", "message"),
    [
        (
            "adam",
            {"momentum": 0.9},
            r"adam has no hyper-parameter momentum \(allowed: betas, eps\)",
        ),
        ("gd", {"eps": 1e-8}, r"gd has no hyper-parameter eps \(allowed: none\)"),
        ("momentum", {"momentum": 1.5}, r"momentum must lie in \[0, 1\)"),
        ("momentum", {"momentum": -0.1}, r"momentum must lie in \[0, 1\)"),
        ("rmsprop", {"alpha": 1.0}, r"alpha must lie in \[0, 1\)"),
        ("rmsprop", {"alpha": float("nan")}, "alpha must be a finite number"),
        ("adagrad", {"eps": 0.0}, r"eps must lie in \(0, 1\]"),
        ("adam", {"eps": float("inf")}, "eps must be a finite number"),
        ("adam", {"betas": (0.9, 1.0)}, r"betas must both lie in \[0, 1\)"),
        ("adam", {"betas": (-0.1, 0.9)}, r"betas must both lie in \[0, 1\)"),
        ("adam", {"betas": (float("nan"), 0.9)}, r"betas must both lie in \[0, 1\)"),
    ],
)
def test_bad_hyper_parameters_are_explained(name, hyper, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, 0.1, hyper)
    opt = make_optimizer(name, 0.1)
    with pytest.raises(ValueError, match=message.split(r" \(")[0]):
        opt.set_hyper(**hyper)


@pytest.mark.parametrize(
    ("name", "hyper"),
    [
        ("adam", {"betas": 0.5}),
        ("adam", {"betas": [0.9]}),
        ("adam", {"betas": ["a", 0.9]}),
        ("momentum", {"momentum": None}),
        ("rmsprop", {"alpha": "0.9"}),
    ],
)
def test_badly_typed_hyper_parameters_raise_value_error(name, hyper):
    with pytest.raises(ValueError):
        make_optimizer(name, 0.1, hyper)


# --- torch.optim, the reference these rules are copied from -----------------------------

TORCH_CASES = [
    # (ours, hyper, torch class, torch keyword arguments)
    ("gd", {}, "SGD", {}),
    ("momentum", {}, "SGD", {"momentum": 0.9}),
    ("momentum", {"momentum": 0.8}, "SGD", {"momentum": 0.8}),
    ("nesterov", {}, "SGD", {"momentum": 0.9, "nesterov": True}),
    ("nesterov", {"momentum": 0.7}, "SGD", {"momentum": 0.7, "nesterov": True}),
    ("adagrad", {}, "Adagrad", {}),
    ("adagrad", {"eps": 1e-6}, "Adagrad", {"eps": 1e-6}),
    ("rmsprop", {}, "RMSprop", {}),
    ("rmsprop", {"alpha": 0.9, "eps": 1e-6}, "RMSprop", {"alpha": 0.9, "eps": 1e-6}),
    ("adam", {}, "Adam", {}),
    ("adam", {"betas": (0.8, 0.99), "eps": 1e-6}, "Adam", {"betas": (0.8, 0.99), "eps": 1e-6}),
]


@pytest.mark.parametrize(("name", "hyper", "torch_name", "torch_hyper"), TORCH_CASES)
def test_matches_torch_optim(name, hyper, torch_name, torch_hyper):
    """60 steps on random float64 arrays, lr changed twice on the way, as the slider does."""

    rng = np.random.default_rng(sum(map(ord, name + torch_name)) + len(hyper))
    ours = [rng.standard_normal((4, 3)), rng.standard_normal(5), rng.standard_normal(())]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in ours]
    opt = make_optimizer(name, 0.05, hyper)
    topt = getattr(torch.optim, torch_name)(theirs, lr=0.05, **torch_hyper)
    for t in range(60):
        lr = 0.05 if t < 20 else (0.2 if t < 40 else 0.003)
        opt.lr = lr
        for group in topt.param_groups:
            group["lr"] = lr
        grads = [
            np.asarray(rng.standard_normal(p.shape) * 2.0 ** rng.integers(-8, 4)) for p in ours
        ]
        opt.step(ours, grads)
        for tp, g in zip(theirs, grads, strict=True):
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
    for p, tp in zip(ours, theirs, strict=True):
        assert tp.dtype == torch.float64
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("name", "key", "before", "after", "torch_name", "torch_hyper"),
    [
        ("momentum", "momentum", 0.9, 0.5, "SGD", {"momentum": 0.9}),
        ("rmsprop", "alpha", 0.99, 0.9, "RMSprop", {"alpha": 0.99}),
        ("adam", "betas", (0.9, 0.999), (0.5, 0.9), "Adam", {"betas": (0.9, 0.999)}),
    ],
)
def test_hyper_change_mid_run_matches_torch(name, key, before, after, torch_name, torch_hyper):

    rng = np.random.default_rng(11)
    ours = [rng.standard_normal(6)]
    theirs = [torch.tensor(ours[0].copy(), requires_grad=True)]
    opt = make_optimizer(name, 0.01, {key: before})
    topt = getattr(torch.optim, torch_name)(theirs, lr=0.01, **torch_hyper)
    for t in range(50):
        if t == 25:
            opt.set_hyper(**{key: after})
            topt.param_groups[0][key] = after
        g = rng.standard_normal(6)
        opt.step(ours, [g])
        theirs[0].grad = torch.from_numpy(g.copy())
        topt.step()
    np.testing.assert_allclose(ours[0], theirs[0].detach().numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_step_point_is_bit_for_bit_the_array_step(name):
    """The surface lab's float path performs exactly the array path's arithmetic."""
    rng = np.random.default_rng(7)
    hyper = {"momentum": 0.8, "alpha": 0.9, "betas": (0.8, 0.95), "eps": 1e-6}
    hyper = {k: v for k, v in hyper.items() if k in OPTIMIZERS[name].defaults}
    array_opt, point_opt = make_optimizer(name, 0.05, hyper), make_optimizer(name, 0.05, hyper)
    point = rng.normal(size=2) * 3
    x, y = point.tolist()
    for k in range(300):
        g = rng.normal(size=2) * 10.0 ** rng.integers(-8, 4)
        if k == 150:  # settings change mid-run, as the slider does, then a restart
            array_opt.lr = point_opt.lr = 0.003
        if k == 200:
            array_opt.reset()
            point_opt.reset()
        array_opt.step([point], [g])
        x, y = point_opt.step_point(x, y, float(g[0]), float(g[1]))
        assert (x, y) == tuple(point.tolist()), f"step {k}"
    assert point_opt.t == array_opt.t


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_step_allocates_no_arrays(name):
    """Buffers are made on the first step; later steps write into them (13,002 float32s)."""
    import tracemalloc

    opt = make_optimizer(name, 0.01)
    p, g = np.ones(13_002, np.float32), np.full(13_002, 0.5, np.float32)
    opt.step([p], [g])
    tracemalloc.start()
    for _ in range(5):
        opt.step([p], [g])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4_096  # one parameter-sized temporary would be 52,008 bytes
    assert p.dtype == np.float32
