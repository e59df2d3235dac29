"""Optimizers: hand-worked updates, and torch.optim itself when it is installed."""

import math

import numpy as np
import pytest

from app.optimizers import OPTIMIZERS, make_optimizer


def steps(name, grads, lr, x0=1.0, **hyper):
    """Run one optimizer on a single scalar parameter; return the positions."""
    opt = make_optimizer(name, lr, hyper)
    x = np.array([x0])
    out = []
    for g in grads:
        opt.step([x], [np.array([g])])
        out.append(float(x[0]))
    return out


def test_gd_by_hand():
    assert steps("gd", [2.0, -1.0], 0.1) == pytest.approx([0.8, 0.9])


def test_momentum_by_hand():
    # b1 = 2, x = 1 - 0.1·2 = 0.8; b2 = 0.9·2 + 1 = 2.8, x = 0.8 - 0.28 = 0.52
    assert steps("momentum", [2.0, 1.0], 0.1) == pytest.approx([0.8, 0.52])


def test_nesterov_by_hand():
    # b1 = 2, x = 1 - 0.1·(2 + 0.9·2) = 0.62; b2 = 2.8, x = 0.62 - 0.1·(1 + 2.52) = 0.268
    assert steps("nesterov", [2.0, 1.0], 0.1) == pytest.approx([0.62, 0.268])


def test_adagrad_by_hand():
    # G = 4, x = 1 - 0.5·2/2 = 0.5; G = 5, x = 0.5 - 0.5·1/√5
    assert steps("adagrad", [2.0, 1.0], 0.5) == pytest.approx([0.5, 0.5 - 0.5 / math.sqrt(5)])


def test_rmsprop_by_hand():
    v1 = 0.01 * 4
    x1 = 1 - 0.1 * 2 / (math.sqrt(v1) + 1e-8)
    v2 = 0.99 * v1 + 0.01 * 1
    x2 = x1 - 0.1 * 1 / (math.sqrt(v2) + 1e-8)
    assert steps("rmsprop", [2.0, 1.0], 0.1) == pytest.approx([x1, x2], rel=1e-12)


def test_adam_by_hand():
    # step 1: m̂ = g, v̂ = g², so the first step is lr·g/(|g| + eps) ≈ lr·sign(g)
    m1, v1 = 0.1 * 2, 0.001 * 4
    x1 = 1 - (0.1 / 0.1) * m1 / (math.sqrt(v1) / math.sqrt(0.001) + 1e-8)
    m2, v2 = 0.9 * m1 + 0.1 * 1, 0.999 * v1 + 0.001 * 1
    bc1, bc2 = 1 - 0.9**2, 1 - 0.999**2
    x2 = x1 - (0.1 / bc1) * m2 / (math.sqrt(v2) / math.sqrt(bc2) + 1e-8)
    assert steps("adam", [2.0, 1.0], 0.1) == pytest.approx([x1, x2], rel=1e-12)
    assert x1 == pytest.approx(0.9, rel=1e-7)


def test_lr_change_takes_effect_on_the_next_step():
    opt = make_optimizer("gd", 0.1)
    x = np.array([1.0])
    opt.step([x], [np.array([1.0])])
    opt.lr = 0.5
    opt.step([x], [np.array([1.0])])
    assert x[0] == pytest.approx(1 - 0.1 - 0.5)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_stays_float32_and_state_is_per_array(name):
    opt = make_optimizer(name, 0.01)
    a = np.ones((3, 2), dtype=np.float32)
    b = np.ones(4, dtype=np.float32)
    for _ in range(3):
        opt.step([a, b], [np.full_like(a, 0.5), np.full_like(b, -0.25)])
    assert a.dtype == np.float32 and b.dtype == np.float32
    assert all(s[k].dtype == np.float32 for s in opt.state for k in s)
    assert np.all(a < 1) and np.all(b > 1)


def test_bad_names_and_hyper_parameters_are_explained():
    with pytest.raises(ValueError, match="unknown optimizer 'sgdx'"):
        make_optimizer("sgdx", 0.1)
    with pytest.raises(ValueError, match="adam has no hyper-parameter momentum"):
        make_optimizer("adam", 0.1, {"momentum": 0.9})
    with pytest.raises(ValueError, match="momentum must lie in"):
        make_optimizer("momentum", 0.1, {"momentum": 1.5})
    with pytest.raises(ValueError, match="betas"):
        make_optimizer("adam", 0.1, {"betas": (0.9, 1.0)})
    with pytest.raises(ValueError, match="finite"):
        make_optimizer("rmsprop", 0.1, {"alpha": float("nan")})


TORCH_CASES = [
    ("gd", "SGD", {}, {}),
    ("momentum", "SGD", {"momentum": 0.8}, {"momentum": 0.8}),
    ("nesterov", "SGD", {"momentum": 0.7}, {"momentum": 0.7, "nesterov": True}),
    ("adagrad", "Adagrad", {"eps": 1e-6}, {"eps": 1e-6}),
    ("rmsprop", "RMSprop", {"alpha": 0.9}, {"alpha": 0.9}),
    ("adam", "Adam", {"betas": (0.8, 0.99)}, {"betas": (0.8, 0.99)}),
    ("momentum", "SGD", {}, {"momentum": 0.9}),
    ("adam", "Adam", {}, {}),
]


@pytest.mark.parametrize(("name", "torch_name", "hyper", "torch_hyper"), TORCH_CASES)
def test_matches_torch_optim(name, torch_name, hyper, torch_hyper):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    ours = [rng.standard_normal((4, 3)), rng.standard_normal(5)]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in ours]
    opt = make_optimizer(name, 0.05, hyper)
    topt = getattr(torch.optim, torch_name)(theirs, lr=0.05, **torch_hyper)
    for t in range(60):
        lr = 0.05 if t < 30 else 0.02  # change lr mid-way, as the slider does
        opt.lr = lr
        for group in topt.param_groups:
            group["lr"] = lr
        grads = [np.sin(p * (t + 1)) + 0.1 * p for p in ours]
        opt.step(ours, grads)
        for tp, g in zip(theirs, grads, strict=True):
            tp.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-12)
