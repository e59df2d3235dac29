"""Both training engines compute what Network.backprop does, to rounding; neither allocates.

Every test that concerns an engine runs for both ("numpy" always; "numba" skipped only
where Numba is missing, and in CI a skip fails the run).
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from app.mnist.engine import NEEDS_NUMBA, make_kernel, numba_available, resolve_engine
from app.mnist.kernel import NumpyKernel
from app.mnist.network import Network

#: float64 agrees to a few units in the last place; float32 to its rounding (sums reordered)
TOLERANCE = {np.float64: 1e-12, np.float32: 2e-6}
NUMBA = pytest.mark.skipif(not numba_available(), reason='Numba missing: pip install "gdviz[fast]"')
ENGINES = [pytest.param("numpy"), pytest.param("numba", marks=NUMBA)]
#: and the Numba kernel splitting its rows into parts on two threads, from 2 × 2 rows
KERNELS = [*ENGINES, pytest.param("numba-split", marks=NUMBA)]


def kernel_for(engine, network, block=None):
    """The engine's kernel; ``block`` rows per pass (Numba: backprop and evaluation;
    NumPy: evaluation, as its backprop takes the whole batch at once). "numba-split":
    Numba's, on two threads from 2 × 2 rows on (as it is from 2 × PART_ROWS)."""
    if engine == "numba-split":
        from app.mnist.fast.kernel import BLOCK_ROWS, NumbaKernel, step_threads

        if step_threads() < 2:
            pytest.skip("one core, or no thread-safe threading layer: nothing to split over")
        return NumbaKernel(network, block=block or BLOCK_ROWS, threads=2, part_rows=2)
    if block is None:
        return make_kernel(network, engine)
    if engine == "numba":
        from app.mnist.fast.kernel import NumbaKernel

        return NumbaKernel(network, block=block, threads=1)
    return NumpyKernel(network, block=block)


def _problem(sizes, activation, cost, dtype, samples=50):
    rng = np.random.default_rng(3)
    network = Network(sizes, activation, cost, seed=1, dtype=dtype)
    for b in network.biases:
        b[...] = rng.normal(size=b.shape)  # non-zero biases, so adding them is tested
    x = rng.random((samples, sizes[0])).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], samples)]
    return network, x, y, rng


@pytest.mark.parametrize("engine", KERNELS)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", [(20, 7, 5, 4), (33, 16, 10), (9, 3), (12, 1, 13, 2)])
@pytest.mark.parametrize("block", [64, 3])
def test_kernel_gradient_and_cost_equal_backprop(engine, activation, cost, dtype, sizes, block):
    """Layer widths from 1 to 33 (0-3 outputs past the compiled loops' groups of 4); full
    and short batches (1-7 rows past their passes of 4 and 8 rows); batches of several
    sizes through one kernel (NumPy: buffer views of each size; Numba: in blocks of 3 rows
    whose shares of the gradient add up, split: in two parts from 4 rows on, one part
    below)."""
    network, x, y, rng = _problem(sizes, activation, cost, dtype)
    kernel = kernel_for(engine, network, block)
    grad = np.full_like(network.flat, np.nan)  # every entry must be written
    for n in (9, 8, 7, 6, 5, 1, 23, 9):
        rows = rng.permutation(50)[:n]
        got_cost, finite = kernel.backprop(x, y, rows, grad)
        want_w, want_b, want_cost = network.backprop(x[rows], y[rows])
        want = np.concatenate([a.ravel() for a in [*want_w, *want_b]])
        assert finite and grad.dtype == np.dtype(dtype)
        assert got_cost == pytest.approx(want_cost, rel=TOLERANCE[dtype])
        scale = np.abs(want).max()
        np.testing.assert_allclose(grad, want, rtol=0, atol=TOLERANCE[dtype] * scale)


@pytest.mark.parametrize("engine", KERNELS)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_evaluation_equals_the_network_cost_and_accuracy(engine, activation, cost, dtype):
    """NumPy's evaluation, and the Numba engine's (in one part, or split, as a training whose
    steps are split evaluates)."""
    network, x, y, _ = _problem((20, 7, 10), activation, cost, dtype, samples=203)
    want_cost, output = network.cost_and_output(x, y)
    want_accuracy = np.mean(output.argmax(axis=1) == y.argmax(axis=1))
    assert 0.05 < want_accuracy < 0.95  # a test that can tell right from wrong rows
    for block in (64, 5, 1000):  # 203 rows: the last pass short, or all in one
        kernel = kernel_for(engine, network, block)
        got_cost, accuracy = kernel.evaluate(x, y)
        assert got_cost == pytest.approx(want_cost, rel=TOLERANCE[dtype])
        assert accuracy == want_accuracy
        read = np.full(len(x), -1, np.int64)  # every row's digit, for a confusion matrix
        assert kernel.evaluate(x[:7], y[:7])[1] == np.mean(output[:7].argmax(1) == y[:7].argmax(1))
        kernel.evaluate(x, y, read)
        np.testing.assert_array_equal(read, output.argmax(axis=1))


@pytest.mark.parametrize(
    ("engine", "activation", "cost"),  # step: quadratic cost only (TrainConfig), on NumPy
    [*[pytest.param(engine.values[0], activation, cost, marks=engine.marks)
       for engine in KERNELS for activation in ("sigmoid", "relu")
       for cost in ("quadratic", "cross_entropy")], ("numpy", "step", "quadratic")],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_evaluation_gives_the_bias_gradient_of_its_mean_cost(engine, activation, cost, dtype):
    """The gradient sizes the digit page plots come from an evaluation's forward pass: its
    ∂C/∂b equals Network.backprop's over the same rows, in passes of any size (203 rows:
    the passes' shares of the mean weighted by their rows), and the cost is unchanged."""
    sizes = (20, 7, 5, 10)
    network, x, y, _ = _problem(sizes, activation, cost, dtype, samples=203)
    _, want, _ = network.backprop(x, y)
    for block in (64, 5, 1000):
        kernel = kernel_for(engine, network, block)
        got = [np.full(size, np.nan, dtype) for size in sizes[1:]]  # every entry written
        with_gradient, _ = kernel.evaluate(x, y, bias_gradient=got)
        alone, _ = kernel.evaluate(x, y)
        assert with_gradient == alone
        for layer, (g, w) in enumerate(zip(got, want, strict=True)):
            scale = max(float(np.abs(w).max()), 1e-30)
            assert np.abs(g - w).max() <= 50 * TOLERANCE[dtype] * scale, layer
    if activation == "sigmoid":
        assert all(np.abs(w).max() > 1e-3 for w in want)  # a gradient to tell right from wrong


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_the_gradient_matches_finite_differences(engine, activation, cost):
    """An independent check of the mathematics, in float64."""
    network, x, y, rng = _problem((6, 4, 3), activation, cost, np.float64)
    kernel, rows = make_kernel(network, engine), np.array([4, 0, 7, 2, 9])
    grad = np.zeros_like(network.flat)
    kernel.backprop(x, y, rows, grad)
    for index in rng.choice(network.flat.size, 12, replace=False):
        h, saved = 1e-6, network.flat[index]
        network.flat[index] = saved + h
        up = network.cost(x[rows], y[rows])
        network.flat[index] = saved - h
        down = network.cost(x[rows], y[rows])
        network.flat[index] = saved
        assert grad[index] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("engine", KERNELS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("layer", [0, 1])
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_a_non_finite_parameter_is_reported_by_backprop_and_evaluation(
    engine, bad, layer, activation
):
    """Whatever becomes of it on the way (a sigmoid saturates an infinite z to 0 or 1), it
    is reported."""
    network, x, y, _ = _problem((8, 4, 3), activation, "quadratic", np.float32)
    network.weights[layer][0, 0] = bad
    kernel = kernel_for(engine, network)
    with np.errstate(all="ignore"):
        cost, finite = kernel.backprop(x, y, np.arange(4), np.zeros_like(network.flat))
        assert not finite
        assert not np.isfinite(kernel.evaluate(x, y)[0])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_finite_parameters_whose_sums_overflow_are_reported(engine, cost):
    """Every parameter finite (1e30), but the second layer's weighted inputs overflow float32
    to infinity. Softmax then makes a NaN cost; the saturated sigmoid output may give a
    finite cost (NumPy's BLAS turns 0·∞ into 0, Numba's loops into NaN). Either way ``finite``
    says exactly whether the cost and the gradient are finite: never a NaN let through."""
    network, x, y, _ = _problem((8, 4, 3), "relu", cost, np.float32)
    for w in network.weights:
        w[...] = 1e30
    assert np.isfinite(network.flat).all()
    grad = np.zeros_like(network.flat)
    with np.errstate(all="ignore"):
        got_cost, finite = make_kernel(network, engine).backprop(x, y, np.arange(4), grad)
    assert finite == (np.isfinite(got_cost) and np.isfinite(grad).all())
    if cost == "cross_entropy":
        assert not finite


def test_a_numpy_step_allocates_nothing():
    """tracemalloc sees NumPy's array allocations: after a kernel has met its batch sizes,
    a step at batch 1000 allocates no more than at batch 4, and neither anything batch-sized
    (a 1000-row gather alone would be 3 MB; one hidden layer's buffer 64 KB)."""
    script = textwrap.dedent(
        """
        import tracemalloc
        import numpy as np
        from app.mnist.engine import make_kernel
        from app.mnist.network import Network
        for activation, cost in [("sigmoid", "quadratic"), ("relu", "cross_entropy")]:
            net = Network((784, 16, 16, 10), activation, cost)
            kernel, grad = make_kernel(net, "numpy"), np.zeros_like(net.flat)
            x = np.random.default_rng(0).random((3000, 784), dtype=np.float32)
            y = np.eye(10, dtype=np.float32)[np.arange(3000) % 10]
            rows = np.random.default_rng(1).permutation(3000)
            for n in (1000, 4):
                kernel.backprop(x, y, rows[:n], grad)
            tracemalloc.start()
            for n in (1000, 4):
                tracemalloc.reset_peak()
                before = tracemalloc.get_traced_memory()[0]
                kernel.backprop(x, y, rows[:n], grad)
                print(tracemalloc.get_traced_memory()[1] - before)
            tracemalloc.stop()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    peaks = [int(v) for v in done.stdout.split()]
    assert len(peaks) == 4 and max(peaks) < 2_000, peaks


@pytest.mark.parametrize("engine", ENGINES)
def test_warm_up_gets_the_engine_ready_then_calls_back(engine):
    from app.mnist.engine import warm_up

    done = []
    thread = warm_up(engine, then=lambda: done.append(True))
    if engine == "numba":  # compiled in the background
        thread.join(timeout=120)
        assert not thread.is_alive()
    else:
        assert thread is None
    assert done == [True]


def test_auto_takes_numba_when_it_imports_and_unknown_engines_are_refused():
    assert resolve_engine("auto") == ("numba" if numba_available() else "numpy")
    assert resolve_engine("auto", "relu") == resolve_engine("auto")
    assert resolve_engine("auto", "step") == "numpy"  # the loops have no step
    assert resolve_engine("numpy") == "numpy"
    if numba_available():
        assert resolve_engine("numba") == "numba"  # asked for: given
    with pytest.raises(ValueError, match="unknown engine 'torch'"):
        resolve_engine("torch")


def test_without_numba_everything_trains_with_numpy_and_asking_for_numba_says_how():
    """Numba made unimportable before app is: auto falls back to NumPy, a training runs,
    no Numba code is loaded, and asking for Numba names the extra to install."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["numba"] = None  # import numba now raises ImportError
        import numpy as np
        from app.mnist.data import Dataset
        from app.mnist.engine import resolve_engine, warm_up
        from app.mnist.training import TrainConfig, Trainer
        warm_up(background=False)
        rng = np.random.default_rng(0)
        x = rng.random((60, 784), dtype=np.float32)
        data = Dataset(x, np.arange(60) % 10, x[:20], np.arange(20) % 10, "random")
        trainer = Trainer(TrainConfig(epochs=2, batch_size=7), data)
        chunk = trainer.run(1000)
        print(trainer.engine, len(chunk.progress), len(chunk.evals))
        print(sorted(m for m in sys.modules if m.startswith("app.mnist.fast")))
        try:
            resolve_engine("numba")
        except ValueError as problem:
            print(problem)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    assert lines == ["numpy 18 2", "[]", NEEDS_NUMBA]
    assert NEEDS_NUMBA == 'GDVIZ_ENGINE=numba needs Numba: pip install "gdviz[fast]"'


@NUMBA
def test_a_numba_step_and_evaluation_allocate_nothing():
    """Numba counts every allocation; a call makes only the one per array argument that
    passing it from Python costs — no buffers: a step 11 (at batch 4 and 50), a step split
    into parts 13 (their gradients and costs: at 1,000), an evaluation 12, split 14."""
    script = textwrap.dedent(
        """
        import numpy as np
        from numba.core.runtime import rtsys
        from app.mnist.fast.kernel import NumbaKernel
        from app.mnist.network import Network
        net = Network((784, 16, 16, 10))
        kernel, grad = NumbaKernel(net, threads=2), np.zeros_like(net.flat)
        x = np.random.default_rng(0).random((3000, 784), dtype=np.float32)
        y = np.eye(10, dtype=np.float32)[np.arange(3000) % 10]
        rows = np.random.default_rng(1).permutation(3000)
        read, biases = np.zeros(1000, np.int64), [np.zeros(n, np.float32) for n in (16, 16, 10)]
        def allocations(call):
            call()  # the first call of each: Numba starts its runtime and threads
            before = rtsys.get_allocation_stats().alloc
            call()
            return rtsys.get_allocation_stats().alloc - before
        for n in (50, 4, 1000):  # one part (below 2 × PART_ROWS), one, split
            print(allocations(lambda: kernel.backprop(x, y, rows[:n], grad)))
        for n in (50, 1000):
            print(allocations(lambda: kernel.evaluate(x[:n], y[:n], read[:n], biases)))
        """
    )
    env = {**os.environ, "NUMBA_NRT_STATS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["11", "11", "13", "12", "14"]


@NUMBA
def test_after_warm_up_a_training_on_the_stored_digits_compiles_nothing(mnist):
    """The data layer hands out read-only arrays, a type Numba compiles apart: the warm-up
    must cover it, or the first training would stall for seconds on a fresh install."""
    from app.mnist.engine import warm_up
    from app.mnist.fast import loops
    from app.mnist.training import TrainConfig, Trainer

    warm_up("numba", background=False)
    functions = (loops.backprop, loops.backprop_parts, loops.evaluate, loops.evaluate_parts)
    compiled = [len(function.signatures) for function in functions]
    for batch in (50, 1000):  # one part; split into parts, evaluating with the kernel
        trainer = Trainer(TrainConfig(epochs=1, batch_size=batch), mnist, engine="numba")
        trainer.run(3)
        trainer.evaluate()
    assert not mnist.x_train.flags.writeable  # the case this guards
    assert [len(function.signatures) for function in functions] == compiled


@NUMBA
def test_trainings_stepping_at_once_on_split_kernels_each_get_their_own_gradient():
    """Several trainings share a server: their steps, each split over Numba's threads, run
    at the same moment from their own threads. Each must get what its kernel alone gets
    (Numba's own fallback threading layer, workqueue, would stop the process here)."""
    from concurrent.futures import ThreadPoolExecutor

    from app.mnist.fast.kernel import NumbaKernel, step_threads

    assert step_threads() >= 2, "a split step needs two cores and OpenMP or TBB"
    problems = [_problem((30, 8, 5), "sigmoid", "quadratic", np.float32, 600) for _ in range(3)]
    for index, (network, *_) in enumerate(problems):
        network.flat[::7] += index  # three different networks: a mix-up would show
    kernels = [NumbaKernel(network, block=16, threads=2, part_rows=64) for network, *_ in problems]

    def gradients(index: int) -> list[np.ndarray]:
        network, x, y, _ = problems[index]
        rows = np.random.default_rng(index).permutation(600)
        out = []
        for start in range(0, 600, 200):
            grad = np.zeros_like(network.flat)
            kernels[index].backprop(x, y, rows[start : start + 200], grad)
            out.append(grad)
        return out

    alone = [gradients(index) for index in range(3)]
    for _ in range(20):
        with ThreadPoolExecutor(3) as pool:
            together = list(pool.map(gradients, range(3)))
        for mine, wanted in zip(together, alone, strict=True):
            for got, want in zip(mine, wanted, strict=True):
                np.testing.assert_array_equal(got, want)


@NUMBA
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc: Linux")
def test_only_a_training_thread_keeps_openmp_threads_and_they_end_with_it():
    """GNU OpenMP keeps a team of threads for every thread that made a split call, for as
    long as it lives, and with more threads than cores every team stops spinning between
    calls: a split step then waits for a sleeping thread (1.75× slower at batch 128). So
    a probe (``in_own_thread``) and a finished training's last evaluation must leave no
    OpenMP thread behind once the training thread has ended, and a paused training lets
    its team go; a thread that lives on after a split call keeps one (the control). In a
    fresh process: here the test runner's own thread may already hold a team."""
    script = textwrap.dedent(
        """
        import os, threading, time
        import numpy as np
        from app.mnist.fast.kernel import _tiny_kernel, _tiny_problems, compile_kernels
        from app.mnist.fast.kernel import in_own_thread, step_threads
        from app.mnist.training import TrainConfig, Trainer
        from app.web.live_training import LiveTraining
        from tests.test_training import synthetic

        def native_threads():  # threads Python did not start: OpenMP's, and BLAS's (fixed)
            return len(os.listdir("/proc/self/task")) - threading.active_count()

        def settled(expected):  # a team's threads end just after their thread does
            deadline = time.monotonic() + 10
            while native_threads() != expected and time.monotonic() < deadline:
                time.sleep(0.01)
            return native_threads()

        def steady():  # the count once it has not changed for 0.3 s
            count, since = native_threads(), time.monotonic()
            while time.monotonic() - since < 0.3:
                time.sleep(0.01)
                if native_threads() != count:
                    count, since = native_threads(), time.monotonic()
            return count

        assert step_threads() >= 2
        compile_kernels()  # every library loaded (with their BLAS threads)
        baseline = steady()
        kernel = _tiny_kernel(2)
        x, onehot = _tiny_problems()[0]
        split = lambda: kernel.backprop(x, onehot, np.arange(8), np.zeros_like(kernel.network.flat))
        in_own_thread(split)
        probed = settled(baseline)
        called, release = threading.Event(), threading.Event()
        def split_and_live_on():
            split()
            called.set()
            release.wait()
        alive = threading.Thread(target=split_and_live_on)
        alive.start()
        called.wait()
        control = settled(baseline + 1)
        release.set()
        alive.join()
        settled(baseline)
        trainer = Trainer(TrainConfig(batch_size=100, epochs=2), synthetic(1000, 200))
        assert trainer.step_cores == 2
        live = LiveTraining(trainer)
        room = threading.Event()
        room.set()
        training = threading.Thread(target=live.train, args=(lambda messages: room,))
        training.start()
        training.join()
        step = live.evaluate().result()["step"]  # the evaluator thread lives on
        after_training = settled(baseline)

        # a paused training lets its team go; its thread waits on, to resume
        posts, running = [], threading.Event()
        running.set()
        def post(messages):
            posts.extend(messages)
            return room
        paused = LiveTraining(Trainer(TrainConfig(batch_size=100, epochs=100),
                                      synthetic(1000, 200)), running)
        waiting = threading.Thread(target=paused.train, args=(post,))
        waiting.start()
        while not any(m["type"] == "progress" for m in posts):
            time.sleep(0.001)
        stepping = settled(baseline + 1)
        running.clear()
        while {"type": "status", "state": "paused"} not in posts:
            time.sleep(0.001)
        while_paused = settled(baseline)
        assert waiting.is_alive()
        paused.stop()
        waiting.join()
        print(baseline, probed, control, after_training, step, stepping, while_paused)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert out.returncode == 0, out.stderr
    baseline, probed, control, after_training, step, stepping, while_paused = map(
        int, out.stdout.split()
    )
    assert step == 20  # 2 epochs of 1,000 digits at batch 100: the evaluation is of the end
    assert control == baseline + 1 == stepping  # the count sees a team kept
    assert probed == baseline
    assert after_training == baseline
    assert while_paused == baseline


@NUMBA
def test_while_another_training_steps_a_numba_step_keeps_to_one_core():
    """Two trainings stepping at once have the two cores taken already: split, their steps
    only wait for each other's threads (two at batch 128 took 0.102 s together split,
    0.078 on one core each). Alone again, a training splits again."""
    from app.mnist.engine import stepping, trainings_stepping
    from app.mnist.fast.kernel import NumbaKernel

    network, x, y, _ = _problem((30, 8, 5), "sigmoid", "quadratic", np.float32, 600)
    kernel = NumbaKernel(network, block=16, threads=2, part_rows=64)
    rows = np.arange(600)
    split = np.zeros_like(network.flat)
    with stepping():  # this training
        assert trainings_stepping() == 1 and kernel.parts(600) == 2
        kernel.backprop(x, y, rows, split)
        with stepping():  # another one, in its own thread in the server
            assert trainings_stepping() == 2 and kernel.parts(600) == 1
            alone = np.zeros_like(network.flat)
            kernel.backprop(x, y, rows, alone)
        assert kernel.parts(600) == 2
    assert trainings_stepping() == 0
    np.testing.assert_allclose(alone, split, rtol=1e-5, atol=1e-7)  # the same step, to rounding


def test_a_training_counts_as_stepping_only_while_it_runs_steps():
    """``Trainer.run`` is what counts (a paused training, between runs, does not)."""
    from app.mnist.engine import trainings_stepping
    from app.mnist.training import TrainConfig, Trainer
    from tests.test_training import synthetic

    trainer = Trainer(TrainConfig(batch_size=10, epochs=1), synthetic(100, 20), engine="numpy")
    seen = []
    backprop = trainer._kernel.backprop

    def counting(*args):
        seen.append(trainings_stepping())
        return backprop(*args)

    trainer._kernel.backprop = counting
    trainer.run(3)
    assert seen == [1, 1, 1]
    assert trainings_stepping() == 0
