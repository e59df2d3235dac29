"""Backprop for one mini-batch as compiled loops (Numba): the training hot path.

Why compiled: ``Network.backprop`` is ~45 NumPy calls a step, and at batch 10 each
call's overhead (~2 µs) costs more than its arithmetic. Why hand-written loops
rather than BLAS: the products here are skinny (784×16), and a loop that reads
the batch's rows straight out of the training set (no gathered copy) ran at
~150 GFLOP/s on one core here for the first layer's product and 120–140 for its
weight gradient (AVX-512, batch 1,000), where OpenBLAS's sgemm ran at 92, before
the gather. Every loop here is written so that LLVM vectorises its innermost loop
over a contiguous row, and each pass works on as many rows and outputs as the
vector registers hold (``_dense``, ``_weight_gradient``).

Only ``reassoc`` and ``contract`` (reordered sums, fused multiply-add) are allowed,
not the "no NaN / no Infinity" assumptions of full fastmath: the divergence
check at the end must see NaN and Infinity. The sums run in another order than
NumPy's, so results agree with ``Network.backprop`` to rounding, not bit for bit
(tests/test_kernel.py checks float64 to 1e-12 and float32 to float32 rounding).

The layer layout comes in one int64 array ``layout`` with a row per layer:
(inputs, outputs, offset of W in flat, offset of b in flat, offset of the
layer's rows in the activation/delta buffers). The buffers hold one block of
rows; a larger batch goes through in blocks whose gradients add up.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from app.mnist.fast.vector_exp import LANES, sigmoid16

__all__ = ["backprop", "backprop_parts", "evaluate", "evaluate_parts"]

_FLAGS = {"reassoc", "contract"}
_jit = njit(cache=True, fastmath=_FLAGS, nogil=True)
#: a parallel loop (prange) runs its iterations on Numba's threads: kernel.py picks the layer
_jit_parallel = njit(cache=True, fastmath=_FLAGS, nogil=True, parallel=True)
N_IN, N_OUT, W_AT, B_AT, A_AT = range(5)
#: layers with at most this many inputs take ``_weight_gradient_narrow``
NARROW = 64


@_jit
def _weights(flat, layout, layer):
    n_in, n_out, w_at = layout[layer, N_IN], layout[layer, N_OUT], layout[layer, W_AT]
    return flat[w_at : w_at + n_in * n_out].reshape((n_out, n_in))


@_jit
def _biases(flat, layout, layer):
    b_at = layout[layer, B_AT]
    return flat[b_at : b_at + layout[layer, N_OUT]]


@_jit
def _rows_of(buffer, layout, layer, n):
    """The layer's (n, outputs) block of an activation or delta buffer."""
    n_out, a_at = layout[layer, N_OUT], layout[layer, A_AT]
    return buffer[a_at : a_at + n * n_out].reshape((n, n_out))


@_jit
def _dense(src, rows, W, b, Z):
    """Z = src[rows] @ W.T + b, reading the rows in place; 4 rows × 4 outputs per pass.

    Sixteen sums, each over a row of 784 vectorised: more would not fit the vector
    registers, and fewer (4 × 2) read the rows twice as often: 4 × 4 took 0.17 ms where
    4 × 2 took 0.21 at batch 1,000 (one core, the first layer). A short last block of
    rows or outputs repeats its last one, and only the real ones are written.
    """
    n, (n_out, n_in) = rows.shape[0], W.shape
    zero = Z.dtype.type(0)
    for i in range(0, n, 4):
        r = min(4, n - i)
        a0, a1, a2, a3 = _rows4(src, rows, i, r)
        for j in range(0, n_out, 4):
            last = n_out - 1
            w0, w1, w2, w3 = W[j], W[min(j + 1, last)], W[min(j + 2, last)], W[min(j + 3, last)]
            s00 = s10 = s20 = s30 = s01 = s11 = s21 = s31 = zero
            s02 = s12 = s22 = s32 = s03 = s13 = s23 = s33 = zero
            for k in range(n_in):
                x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
                v0, v1, v2, v3 = w0[k], w1[k], w2[k], w3[k]
                s00 += x0 * v0
                s10 += x1 * v0
                s20 += x2 * v0
                s30 += x3 * v0
                s01 += x0 * v1
                s11 += x1 * v1
                s21 += x2 * v1
                s31 += x3 * v1
                s02 += x0 * v2
                s12 += x1 * v2
                s22 += x2 * v2
                s32 += x3 * v2
                s03 += x0 * v3
                s13 += x1 * v3
                s23 += x2 * v3
                s33 += x3 * v3
            _put4(Z, i, j, r, s00 + b[j], s10 + b[j], s20 + b[j], s30 + b[j])
            if j + 1 < n_out:
                c = b[j + 1]
                _put4(Z, i, j + 1, r, s01 + c, s11 + c, s21 + c, s31 + c)
            if j + 2 < n_out:
                c = b[j + 2]
                _put4(Z, i, j + 2, r, s02 + c, s12 + c, s22 + c, s32 + c)
            if j + 3 < n_out:
                c = b[j + 3]
                _put4(Z, i, j + 3, r, s03 + c, s13 + c, s23 + c, s33 + c)


@_jit
def _put4(Z, i, j, r, v0, v1, v2, v3):
    """Z[i:i+r, j] = the first r of v0..v3 (a short last block computes duplicates)."""
    Z[i, j] = v0
    if r > 1:
        Z[i + 1, j] = v1
    if r > 2:
        Z[i + 2, j] = v2
    if r > 3:
        Z[i + 3, j] = v3


@_jit
def _weight_gradient(src, rows, D, G, gb):
    """G += D.T @ src[rows], gb += D summed over rows; 8 rows × 4 outputs per pass.

    Each pass reads and writes four rows of G for eight input rows: 8 × 4 took
    0.18 ms where 4 × 2 took 0.24 at batch 1,000 (one core, the first layer); 4 × 4,
    8 × 2 and 16 × 2 were slower, and 4 × 8 ran out of registers. A short last pass
    repeats its last row, weighted 0; the outputs past the last four go one at a time.
    """
    n, (n_out, n_in) = rows.shape[0], G.shape
    zero = G.dtype.type(0)
    for j in range(n_out):
        s = zero
        for i in range(n):
            s += D[i, j]
        gb[j] += s
    for i in range(0, n, 8):
        r = min(8, n - i)
        a0, a1, a2, a3 = (
            _row(src, rows, i, 0, r),
            _row(src, rows, i, 1, r),
            _row(src, rows, i, 2, r),
            _row(src, rows, i, 3, r),
        )
        a4, a5, a6, a7 = (
            _row(src, rows, i, 4, r),
            _row(src, rows, i, 5, r),
            _row(src, rows, i, 6, r),
            _row(src, rows, i, 7, r),
        )
        # range(0, n_out - 3, 4): the same j as range(0, n_out - n_out % 4, 4), which
        # made this loop eight times slower (LLVM)
        for j in range(0, n_out - 3, 4):
            p0, p1, p2, p3, p4, p5, p6, p7 = _deltas8(D, i, j, r)
            q0, q1, q2, q3, q4, q5, q6, q7 = _deltas8(D, i, j + 1, r)
            u0, u1, u2, u3, u4, u5, u6, u7 = _deltas8(D, i, j + 2, r)
            t0, t1, t2, t3, t4, t5, t6, t7 = _deltas8(D, i, j + 3, r)
            g0, g1, g2, g3 = G[j], G[j + 1], G[j + 2], G[j + 3]
            for k in range(n_in):
                x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
                x4, x5, x6, x7 = a4[k], a5[k], a6[k], a7[k]
                g0[k] += (p0 * x0 + p1 * x1 + p2 * x2 + p3 * x3) + (
                    p4 * x4 + p5 * x5 + p6 * x6 + p7 * x7
                )
                g1[k] += (q0 * x0 + q1 * x1 + q2 * x2 + q3 * x3) + (
                    q4 * x4 + q5 * x5 + q6 * x6 + q7 * x7
                )
                g2[k] += (u0 * x0 + u1 * x1 + u2 * x2 + u3 * x3) + (
                    u4 * x4 + u5 * x5 + u6 * x6 + u7 * x7
                )
                g3[k] += (t0 * x0 + t1 * x1 + t2 * x2 + t3 * x3) + (
                    t4 * x4 + t5 * x5 + t6 * x6 + t7 * x7
                )
        for j in range(n_out - n_out % 4, n_out):
            p0, p1, p2, p3, p4, p5, p6, p7 = _deltas8(D, i, j, r)
            g0 = G[j]
            for k in range(n_in):
                g0[k] += (p0 * a0[k] + p1 * a1[k] + p2 * a2[k] + p3 * a3[k]) + (
                    p4 * a4[k] + p5 * a5[k] + p6 * a6[k] + p7 * a7[k]
                )


@_jit
def _row(src, rows, i, m, r):
    """Row m of the pass of r rows from i: a short pass repeats its last row. (One row a
    call: a function returning all eight made the passes up to a fifth slower.)"""
    return src[rows[i + min(m, r - 1)]]


@_jit
def _rows4(src, rows, i, r):
    """The pass of r (≤ 4) rows from i, four of them: a short pass repeats its last row."""
    return (
        _row(src, rows, i, 0, r),
        _row(src, rows, i, 1, r),
        _row(src, rows, i, 2, r),
        _row(src, rows, i, 3, r),
    )


@_jit
def _deltas8(D, i, j, r):
    """Output j's deltas for the pass of r rows from i, the repeated rows' weighted 0."""
    zero = D.dtype.type(0)
    return (
        D[i, j],
        D[i + 1, j] if r > 1 else zero,
        D[i + 2, j] if r > 2 else zero,
        D[i + 3, j] if r > 3 else zero,
        D[i + 4, j] if r > 4 else zero,
        D[i + 5, j] if r > 5 else zero,
        D[i + 6, j] if r > 6 else zero,
        D[i + 7, j] if r > 7 else zero,
    )


@_jit
def _weight_gradient_narrow(src, rows, D, G, gb):
    """G += D.T @ src[rows], gb += D summed over rows, for a layer with few inputs: four
    rows a pass, each output's gradient row (one vector) gaining the four input rows
    times their deltas (a short last pass repeats its last row, weighted 0)."""
    n, (n_out, n_in) = rows.shape[0], G.shape
    zero = G.dtype.type(0)
    for i in range(0, n, 4):
        r = min(4, n - i)
        a0, a1, a2, a3 = _rows4(src, rows, i, r)
        for j in range(n_out):
            p0 = D[i, j]
            p1 = D[i + 1, j] if r > 1 else zero
            p2 = D[i + 2, j] if r > 2 else zero
            p3 = D[i + 3, j] if r > 3 else zero
            gb[j] += (p0 + p1) + (p2 + p3)
            g = G[j]
            for k in range(n_in):
                g[k] += (p0 * a0[k] + p1 * a1[k]) + (p2 * a2[k] + p3 * a3[k])


@_jit
def _transposed(scratch, layout, layer):
    """The layer's W.T, a contiguous (inputs, outputs) array in ``scratch``: the layers from
    the second on, one after another."""
    at = 0
    for below in range(1, layer):
        at += layout[below, N_IN] * layout[below, N_OUT]
    n_in, n_out = layout[layer, N_IN], layout[layer, N_OUT]
    return scratch[at : at + n_in * n_out].reshape((n_in, n_out))


@_jit
def _transpose_weights(flat, layout, scratch):
    """Every layer's W.T from the second on into ``scratch`` (once a step: W does not change
    during one)."""
    for layer in range(1, layout.shape[0]):
        W, WT = _weights(flat, layout, layer), _transposed(scratch, layout, layer)
        for j in range(W.shape[0]):
            for k in range(W.shape[1]):
                WT[k, j] = W[j, k]


@_jit
def _prime(A, relu, P):
    """P *= f'(z) of the layer below, from its activations A: σ' = a(1−a), relu' = a > 0."""
    a, p = A.reshape(A.size), P.reshape(P.size)
    zero, one = P.dtype.type(0), P.dtype.type(1)
    if relu:
        for k in range(p.shape[0]):
            p[k] = p[k] if a[k] > zero else zero
    else:
        for k in range(p.shape[0]):
            p[k] *= a[k] * (one - a[k])


@_jit
def _activate(Z, relu, exp_floor, scratch):
    """Z = relu(Z) or σ(Z), in place (``scratch``: a block as large, free to overwrite)."""
    z = Z.reshape(Z.size)  # one flat loop: iterating rows costs ~40 ns a row
    if relu:
        zero = Z.dtype.type(0)
        for k in range(z.shape[0]):
            z[k] = max(z[k], zero)
    else:
        _sigmoid(z, exp_floor, scratch.reshape(scratch.size))


@_jit
def _sigmoid(z, exp_floor, scratch):
    """z = σ(z) = 1/(1 + e^−z) in place, with z floored at exp_floor so e^−z never overflows.

    Sixteen at a time with the C library's vector exp where there is one
    (``vector_exp.sigmoid16``: at batch 1,000 the sigmoids took ~15 % of a step
    with the scalar exp), the last few with np.exp. Not hand-written numerics: a
    hand-written vectorised expf (Cody-Waite reduction and Cephes' polynomial) once
    stood here, and paid 13 % at batch 1000, short of the 20 % that hand-written
    numerics must pay to stay. A NaN z may come out NaN or σ(exp_floor): callers
    check the cost and the parameters. ``scratch`` unused.
    """
    one = z.dtype.type(1)
    n = z.shape[0]
    whole = n - n % LANES
    for k in range(0, whole, LANES):
        sigmoid16(z, k, exp_floor)
    for k in range(whole, n):
        z[k] = one / (one + np.exp(-max(z[k], exp_floor)))


@_jit
def _output_and_cost(Z, onehot, rows, cross_entropy, exp_floor, scale, D):
    """Z = the outputs (softmax or σ) in place, D = ∂C/∂z; return these rows' summed cost.

    ``scale`` is 1/n for the whole batch of n (the cost is its mean):
    quadratic: C = Σ(a − y)²/n, ∂C/∂z = 2(a − y)·a(1 − a)/n;
    cross-entropy on softmax: C = −Σ y·log p / n, ∂C/∂z = (p − y)/n.
    """
    n, n_out = Z.shape
    zero, one = Z.dtype.type(0), Z.dtype.type(1)
    twice = scale + scale
    if not cross_entropy:  # deltas are written after: their block serves as scratch
        _sigmoid(Z.reshape(Z.size), exp_floor, D.reshape(D.size))
    cost = 0.0  # summed in float64, as Network._cost does
    for i in range(n):
        z, y, d = Z[i], onehot[rows[i]], D[i]
        if cross_entropy:
            top = z[0]
            for k in range(n_out):
                top = max(top, z[k])
            total = zero
            for k in range(n_out):
                total += np.exp(z[k] - top)
            log_total = np.log(total)
            for k in range(n_out):
                shifted = z[k] - top
                cost -= y[k] * (shifted - log_total)  # y · log p, exact where p underflows
                z[k] = np.exp(shifted) / total
                d[k] = (z[k] - y[k]) * scale
        else:
            for k in range(n_out):
                a = z[k]  # σ(z), computed above
                e = a - y[k]
                cost += e * e
                d[k] = e * a * (one - a) * twice
    return cost


@_jit
def backprop(
    x, onehot, rows, grad, flat, layout, acts, deltas, ident, scratch, zeros, relu,
    cross_entropy, exp_floor,
):  # fmt: skip
    """Gradient of the mean cost over samples x[rows] into grad (laid out like flat).

    The rows go through in blocks as long as the buffers (``ident``): a block's
    input rows are read twice, by the first layer's product and by its weight
    gradient, and in between they stay in the core's cache. ``scratch`` receives the
    weights of the layers after the first, transposed (as many numbers as they have),
    ``zeros`` holds as many zeros as the widest hidden layer (a zero bias). Return (cost, finite):
    finite is False when the cost or any gradient entry is NaN or infinite —
    training has diverged.
    """
    n = rows.shape[0]
    scale = grad.dtype.type(1.0 / n)
    _transpose_weights(flat, layout, scratch)
    cost = _backprop_rows(
        x, onehot, rows, flat, grad, layout, acts, deltas, ident, scratch, zeros, relu,
        cross_entropy, exp_floor, scale,
    ) / n  # fmt: skip
    return cost, np.isfinite(cost + _total(grad) + _total(flat))


@_jit_parallel
def backprop_parts(
    x, onehot, rows, grad, more_grads, costs, flat, layout, acts, deltas, ident, scratch,
    zeros, relu, cross_entropy, exp_floor,
):  # fmt: skip
    """``backprop``, with the rows split into ``len(costs)`` even parts, one per thread.

    Part p puts its rows' share into its own gradient (``grad`` for the first,
    ``more_grads[p - 1]`` after), through its own ``acts[p]`` and ``deltas[p]``, and
    its summed cost into ``costs[p]``; the parts are then added in a fixed order, so a
    batch gives the same result at every call. Why parts rather than blocks handed
    out: each thread keeps its buffers, and no two write one array.
    """
    n, parts = rows.shape[0], costs.shape[0]
    scale = grad.dtype.type(1.0 / n)
    _transpose_weights(flat, layout, scratch)
    for part in prange(parts):
        first, end = part * n // parts, (part + 1) * n // parts
        costs[part] = _backprop_rows(
            x, onehot, rows[first:end], flat, grad if part == 0 else more_grads[part - 1],
            layout, acts[part], deltas[part], ident, scratch, zeros, relu, cross_entropy,
            exp_floor, scale,
        )  # fmt: skip
    cost = _add_parts(grad, more_grads, costs) / n
    return cost, np.isfinite(cost + _total(grad) + _total(flat))


@_jit
def _backprop_rows(
    x, onehot, rows, flat, grad, layout, acts, deltas, ident, scratch, zeros, relu,
    cross_entropy, exp_floor, scale,
):  # fmt: skip
    """grad = these rows' share of the gradient (``scale`` = 1/n of the whole batch), in
    blocks as long as ``ident``; return their summed cost."""
    grad[:] = 0
    cost, block = 0.0, ident.shape[0]
    for start in range(0, rows.shape[0], block):
        cost += _backprop_block(
            x, onehot, rows[start : start + block], flat, grad, layout, acts, deltas, ident,
            scratch, zeros, relu, cross_entropy, exp_floor, scale,
        )  # fmt: skip
    return cost


@_jit
def _add_parts(grad, more_grads, costs):
    """grad += the other parts' gradients; return the parts' summed cost (in part order)."""
    cost = costs[0]
    for part in range(1, costs.shape[0]):
        cost += costs[part]
        more = more_grads[part - 1]
        for k in range(grad.shape[0]):
            grad[k] += more[k]
    return cost


@_jit
def evaluate(
    x, onehot, rows, predicted, grad, flat, layout, acts, deltas, ident, scratch, zeros, relu,
    cross_entropy, exp_floor, bias_gradient,
):  # fmt: skip
    """Forward passes over x[rows]: each row's digit as read (its largest output) into
    ``predicted``, and with ``bias_gradient`` the biases' entries of ∂C/∂θ of the mean
    cost into ``grad`` (from the deltas alone: no weight products, the 784-wide one being
    most of a backprop's work; the weights' entries 0).

    Return (mean cost, finite): finite is False when a parameter is not a finite number.
    """
    n = rows.shape[0]
    scale = grad.dtype.type(1.0 / max(n, 1))
    _transpose_weights(flat, layout, scratch)
    cost = _evaluate_rows(
        x, onehot, rows, predicted, flat, grad, layout, acts, deltas, ident, scratch, zeros,
        relu, cross_entropy, exp_floor, scale, bias_gradient,
    )  # fmt: skip
    return cost / max(n, 1), np.isfinite(_total(flat))


@_jit_parallel
def evaluate_parts(
    x, onehot, rows, predicted, grad, more_grads, costs, flat, layout, acts, deltas, ident,
    scratch, zeros, relu, cross_entropy, exp_floor, bias_gradient,
):  # fmt: skip
    """``evaluate``, with the rows split into parts as ``backprop_parts`` does."""
    n, parts = rows.shape[0], costs.shape[0]
    scale = grad.dtype.type(1.0 / max(n, 1))
    _transpose_weights(flat, layout, scratch)
    for part in prange(parts):
        first, end = part * n // parts, (part + 1) * n // parts
        costs[part] = _evaluate_rows(
            x, onehot, rows[first:end], predicted[first:end], flat,
            grad if part == 0 else more_grads[part - 1], layout, acts[part], deltas[part],
            ident, scratch, zeros, relu, cross_entropy, exp_floor, scale, bias_gradient,
        )  # fmt: skip
    cost = _add_parts(grad, more_grads, costs) / max(n, 1)
    return cost, np.isfinite(_total(flat))


@_jit
def _evaluate_rows(
    x, onehot, rows, predicted, flat, grad, layout, acts, deltas, ident, scratch, zeros, relu,
    cross_entropy, exp_floor, scale, bias_gradient,
):  # fmt: skip
    """``evaluate`` for these rows, in blocks as long as ``ident``; return their summed cost."""
    grad[:] = 0
    cost, block, last = 0.0, ident.shape[0], layout.shape[0] - 1
    for start in range(0, rows.shape[0], block):
        some = rows[start : start + block]
        n = some.shape[0]
        _forward_to_output(x, some, flat, layout, acts, deltas, ident[:n], relu, exp_floor)
        out, d_out = _rows_of(acts, layout, last, n), _rows_of(deltas, layout, last, n)
        cost += _output_and_cost(out, onehot, some, cross_entropy, exp_floor, scale, d_out)
        for i in range(n):
            predicted[start + i] = np.argmax(out[i])
        if bias_gradient:
            _add_bias_gradient(grad, layout, acts, deltas, ident[:n], scratch, zeros, relu)
    return cost


@_jit
def _add_bias_gradient(grad, layout, acts, deltas, ident, scratch, zeros, relu):
    """grad's bias entries += this block's deltas summed over its rows: backprop's
    deltas, carried down through the layers, without the weight gradients."""
    n = ident.shape[0]
    for layer in range(layout.shape[0] - 1, -1, -1):
        D, gb = _rows_of(deltas, layout, layer, n), _biases(grad, layout, layer)
        for i in range(n):
            for j in range(gb.shape[0]):
                gb[j] += D[i, j]
        if layer:
            P, below = _rows_of(deltas, layout, layer - 1, n), _rows_of(acts, layout, layer - 1, n)
            WT = _transposed(scratch, layout, layer)
            _dense(D, ident, WT, zeros[: WT.shape[0]], P)
            _prime(below, relu, P)


@_jit
def _total(values):
    """Σ values in float64: NaN or infinite exactly when one of them is (float32 sums cannot
    overflow it). The parameters are checked with the gradient because ``_sigmoid`` does
    not carry a NaN weighted input through: a non-finite weight must be caught here."""
    total = 0.0
    for k in range(values.shape[0]):  # indexed: `for v in values` does not vectorise (8x slower)
        total += values[k]
    return total


@_jit
def _backprop_block(
    x, onehot, rows, flat, grad, layout, acts, deltas, ident, scratch, zeros, relu,
    cross_entropy, exp_floor, scale,
):  # fmt: skip
    """Add one block of rows' share of the gradient to grad; return its summed cost."""
    n, layers = rows.shape[0], layout.shape[0]
    ident = ident[:n]
    _forward_to_output(x, rows, flat, layout, acts, deltas, ident, relu, exp_floor)
    last = layers - 1
    out, d_out = _rows_of(acts, layout, last, n), _rows_of(deltas, layout, last, n)
    cost = _output_and_cost(out, onehot, rows, cross_entropy, exp_floor, scale, d_out)
    for layer in range(last, -1, -1):
        D = _rows_of(deltas, layout, layer, n)
        G, gb = _weights(grad, layout, layer), _biases(grad, layout, layer)
        if layer == 0:
            _weight_gradient(x, rows, D, G, gb)
        else:
            below = _rows_of(acts, layout, layer - 1, n)
            if G.shape[1] <= NARROW:
                _weight_gradient_narrow(below, ident, D, G, gb)
            else:
                _weight_gradient(below, ident, D, G, gb)
            # P = D @ W as a product with W.T, which _dense does 4 rows × 4 outputs at a
            # time: half the time of a row-by-row loop over these 16-wide layers
            P = _rows_of(deltas, layout, layer - 1, n)
            WT = _transposed(scratch, layout, layer)
            _dense(D, ident, WT, zeros[: WT.shape[0]], P)
            _prime(below, relu, P)
    return cost


@_jit
def _forward_to_output(x, rows, flat, layout, acts, deltas, ident, relu, exp_floor):
    """Every layer's activations for x[rows]; the output layer's left as z (weighted inputs)."""
    n, layers = rows.shape[0], layout.shape[0]
    for layer in range(layers):
        Z = _rows_of(acts, layout, layer, n)
        if layer == 0:
            _dense(x, rows, _weights(flat, layout, 0), _biases(flat, layout, 0), Z)
        else:
            below = _rows_of(acts, layout, layer - 1, n)
            _dense(below, ident, _weights(flat, layout, layer), _biases(flat, layout, layer), Z)
        if layer < layers - 1:  # the layer's delta block is not yet in use: scratch
            _activate(Z, relu, exp_floor, _rows_of(deltas, layout, layer, n))
