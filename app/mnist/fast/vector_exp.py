"""σ over 16 numbers at a time, with the C library's vector ``exp`` where it has one.

Why: LLVM vectorises the sigmoid's loop, but has no vector ``exp`` to call, so it
calls the scalar ``expf`` sixteen times a vector; the layers' sigmoids were then
~15 % of a training step and ~30 % of an evaluation. glibc ships vector versions
(libmvec: ``_ZGVeN16v_expf`` is ``expf`` on sixteen floats in an AVX-512 register),
and LLVM calls them itself when told ``-vector-library=LIBMVEC``, which llvmlite
gives no way to set for Numba's compiler. ``sigmoid16`` emits that loop body by
hand: load 16 numbers, floor them, negate, call the vector ``exp``, 1/(1 + e),
store. It is not hand-written numerics: no polynomial or range reduction here;
the exp is glibc's. σ comes out within 3.4 float32 units in the last place of the
exact value (the scalar exp's: 2.4); tests/test_vector_exp.py checks both paths
against NumPy, tests/test_kernel.py the gradients against ``Network.backprop``.

Where libmvec or the vector unit it needs is missing (macOS, Windows, musl, a CPU
without AVX2, or Numba told to compile for another CPU), the same body calls
LLVM's ``llvm.exp`` on the vector, which LLVM turns into scalar ``exp`` calls:
the old speed, the same results.
"""

from __future__ import annotations

import sys

import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

__all__ = ["LANES", "sigmoid16"]

#: the numbers one call of ``sigmoid16`` works on
LANES = 16
#: glibc's vector maths library (x86-64 since glibc 2.22)
LIBMVEC = "libmvec.so.1"

#: (vector register width in floats, libmvec's name of exp on that many) per dtype, best first
_LIBMVEC = {
    "avx512f": {"float": (16, "_ZGVeN16v_expf"), "double": (8, "_ZGVeN8v_exp")},
    "avx2": {"float": (8, "_ZGVdN8v_expf"), "double": (4, "_ZGVdN4v_exp")},
}


def _vector_exp_names() -> dict[str, tuple[int, str]] | None:
    """libmvec's exp for this machine's widest vector unit, once the library is loaded;
    None where there is none to use (then LLVM's scalar exp is called instead)."""
    if not sys.platform.startswith("linux") or config.CPU_NAME or config.CPU_FEATURES:
        return None  # Numba compiles for another CPU than this one: its registers may differ
    features = llvm.get_host_cpu_features()
    for feature, names in _LIBMVEC.items():
        if features.get(feature):
            try:
                llvm.load_library_permanently(LIBMVEC)  # glibc's, found as libc is
            except RuntimeError:  # musl, or a glibc without it
                return None
            return names
    return None


#: libmvec's exps that ``sigmoid16`` calls; None: LLVM's, one number at a time
_NAMES = _vector_exp_names()


def _splat(builder: ir.IRBuilder, value: ir.Value, vector: ir.VectorType) -> ir.Value:
    """A vector holding ``value`` in every lane."""
    lanes = ir.Constant(vector, ir.Undefined)
    first = builder.insert_element(lanes, value, ir.Constant(ir.IntType(32), 0))
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), vector.count), [0] * vector.count)
    return builder.shuffle_vector(first, lanes, zeros)


def _exp_function(module: ir.Module, scalar: ir.Type) -> tuple[int, ir.Function]:
    """(lanes, function): libmvec's vector exp for this machine, or LLVM's on 16 lanes."""
    single = isinstance(scalar, ir.FloatType)
    if _NAMES is None:
        lanes, name = LANES, f"llvm.exp.v{LANES}{'f32' if single else 'f64'}"
    else:
        lanes, name = _NAMES["float" if single else "double"]
    vector = ir.VectorType(scalar, lanes)
    return lanes, cgutils.get_or_insert_function(module, ir.FunctionType(vector, [vector]), name)


@intrinsic
def sigmoid16(typingctx, z, start, floor):
    """z[start:start + 16] = σ(max(z, floor)) = 1/(1 + e^−max(z, floor)), in place.

    ``z`` a contiguous float32 or float64 array holding those 16 numbers, ``floor`` of
    its dtype (so that e^−z never overflows). A NaN stays NaN. In pieces as wide as the
    vector exp: one piece of 16 floats with AVX-512, two of 8 with AVX2.
    """
    if not isinstance(z, types.Array) or z.dtype not in (types.float32, types.float64):
        return None
    sig = types.void(z, types.intp, z.dtype)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        scalar = context.get_value_type(signature.args[0].dtype)
        lanes, exp = _exp_function(builder.module, scalar)
        vector = ir.VectorType(scalar, lanes)
        low, one = _splat(builder, args[2], vector), ir.Constant(vector, [1.0] * lanes)
        align = 4 if isinstance(scalar, ir.FloatType) else 8
        for piece in range(0, LANES, lanes):
            index = builder.add(args[1], ir.Constant(args[1].type, piece))
            at = builder.bitcast(cgutils.gep(builder, data, index), vector.as_pointer())
            v = builder.load(at, align=align)
            v = builder.select(builder.fcmp_ordered("<", v, low), low, v)
            e = builder.call(exp, [builder.fneg(v)])
            builder.store(builder.fdiv(one, builder.fadd(one, e)), at, align=align)
        return context.get_dummy_value()

    return sig, codegen
