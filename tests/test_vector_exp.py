"""The Numba engine's sigmoid, 16 numbers at a time: libmvec's vector exp where there is
one, LLVM's scalar exp otherwise. Both against σ computed in float64 by NumPy.

Skipped only where Numba is missing (and in CI a skip fails the run).
"""

import numpy as np
import pytest

numba = pytest.importorskip("numba", reason='Numba missing: pip install "gdviz[fast]"')

import llvmlite.binding as llvm_binding  # noqa: E402

from app.mnist.fast import vector_exp  # noqa: E402

#: σ in float32 to within this many units in the last place (the scalar exp's σ: 2.4)
FLOAT32_ULPS = 4
FLOAT64_RTOL = 1e-14


def _sigmoid_in_sixteens():
    """A fresh compiled function over sigmoid16 (compiled now, so with the current
    ``vector_exp._NAMES``)."""

    @numba.njit
    def run(z, floor):
        for k in range(0, z.shape[0] - 15, 16):
            vector_exp.sigmoid16(z, k, floor)

    return run


def _exact(z):
    return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))


def _check_against_numpy(run):
    z32 = np.linspace(-87, 87, 16 * 4000).astype(np.float32)
    got32 = z32.copy()
    run(got32, np.float32(-87))
    want = _exact(z32)
    ulps = np.abs(got32 - want) / np.spacing(want.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= FLOAT32_ULPS
    z64 = np.linspace(-700, 700, 16 * 4000)
    got64 = z64.copy()
    run(got64, -700.0)
    np.testing.assert_allclose(got64, _exact(z64), rtol=FLOAT64_RTOL, atol=0)


def test_sigmoid16_matches_numpy_with_this_machines_exp():
    _check_against_numpy(_sigmoid_in_sixteens())


def _vector_units():
    """libmvec's exps that this machine can run (AVX-512 runs the AVX2 ones too)."""
    if vector_exp._NAMES is None:  # no libmvec here: the LLVM test below covers this machine
        return []
    features = llvm_binding.get_host_cpu_features()
    return [unit for unit in vector_exp._LIBMVEC if features.get(unit)]


@pytest.mark.parametrize("unit", _vector_units())
def test_sigmoid16_matches_numpy_with_each_vector_exp_this_cpu_runs(unit, monkeypatch):
    """Each of libmvec's widths this CPU has, whichever the module picked: a CPU with
    AVX2 but not AVX-512 runs the 8-wide exp twice a call."""
    monkeypatch.setattr(vector_exp, "_NAMES", vector_exp._LIBMVEC[unit])
    run = _sigmoid_in_sixteens()
    _check_against_numpy(run)
    names = vector_exp._LIBMVEC[unit]
    assembly = "".join(run.inspect_asm().values())  # float32 and float64
    assert names["float"][1] in assembly and names["double"][1] in assembly


def test_sigmoid16_matches_numpy_with_llvms_scalar_exp(monkeypatch):
    """The path of a machine without libmvec (macOS, Windows, musl, no AVX2)."""
    monkeypatch.setattr(vector_exp, "_NAMES", None)
    _check_against_numpy(_sigmoid_in_sixteens())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid16_floors_its_input_and_touches_only_its_sixteen(dtype):
    run = _sigmoid_in_sixteens()
    floor = dtype(-80.0)
    z = np.full(40, -1e30, dtype)  # e^1e30 would overflow: the floor keeps it finite
    z[16:32] = np.arange(16) - 8
    z[32:] = 7.0
    run(z[:32], floor)  # two calls: 0–15 and 16–31; 32–39 are not the function's to touch
    np.testing.assert_allclose(z[:16], _exact(np.full(16, floor)), rtol=1e-6)
    np.testing.assert_allclose(z[16:32], _exact(np.arange(16.0) - 8), rtol=1e-6)
    assert np.all(z[32:] == 7.0)


def test_a_nan_comes_out_nan():
    """Not floored away: the kernel's divergence check sees it in the cost."""
    run = _sigmoid_in_sixteens()
    z = np.zeros(16, np.float32)
    z[3] = np.nan
    run(z, np.float32(-80))
    assert np.isnan(z[3]) and np.all(z[np.arange(16) != 3] == np.float32(0.5))
