"""LBFGS: trajectories (parameters, losses, evaluation counts) equal torch.optim.LBFGS's, with
and without the strong-Wolfe line search; state dicts in torch's layout; bad input."""

from __future__ import annotations

import copy
import functools
import itertools

import numpy as np
import pytest

import xpnet
from xpnet import optim
from xpnet.optim.lbfgs import cubic_interpolate, strong_wolfe

from .conftest import assert_close, assert_on_backend


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# -- three problems, written once for both libraries ------------------------------------------

def _rosenbrock(lib, params, data):
    (x,) = params
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _least_squares(lib, params, data):
    w, b = params
    a, y = data
    return ((a @ w + b - y) ** 2).sum() / 2


def _mlp(lib, params, data):
    w1, b1, w2, b2 = params
    x, y = data
    return ((lib.tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()


def _problem(name):
    rng = np.random.default_rng(0)
    if name == "rosenbrock":
        return _rosenbrock, [np.array([-1.2, 1.0, -0.5, 0.8, 1.5])], []
    if name == "least_squares":
        return (_least_squares, [rng.normal(size=4), np.array(0.3)],
                [rng.normal(size=(12, 4)), rng.normal(size=12)])
    init = [rng.normal(size=(6, 2)) * 0.8, rng.normal(size=6) * 0.1,
            rng.normal(size=(1, 6)) * 0.5, np.zeros(1)]
    return _mlp, init, [rng.normal(size=(20, 2)), rng.normal(size=(20, 1))]


class _Run:
    """One optimizer of one library on one problem, stepped with a closure."""

    def __init__(self, lib, problem, kwargs, init=None):
        self.lib, (self.fn, arrays, data) = lib, _problem(problem)
        arrays = arrays if init is None else init
        if lib is xpnet:
            self.params = [xpnet.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
            self.data = [xpnet.tensor(a, dtype="float64") for a in data]
            self.opt = optim.LBFGS(self.params, **kwargs)
        else:
            self.params = [lib.tensor(a, requires_grad=True) for a in arrays]
            self.data = [lib.tensor(a) for a in data]
            self.opt = lib.optim.LBFGS(self.params, **kwargs)

    def closure(self):
        self.opt.zero_grad()
        loss = self.fn(self.lib, self.params, self.data)
        loss.backward()
        return loss

    def step(self):
        return float(self.opt.step(self.closure).detach())

    @property
    def counts(self):
        state = self.opt.state[self.params[0]]
        return state["func_evals"], state["n_iter"]


# Each iteration feeds the last one's rounding (gradients differ from torch's in the last bits:
# op order, FMA) into a curvature pair, and L-BFGS amplifies it: after ~20 iterations the
# parameters agree to ~1e-12 here, after 100 on the MLP only to ~1e-7 (a chaotic path). So the
# cases keep to 8-20 iterations in all; the evaluation counts must match exactly (the same
# branches of the line search and the same stopping tests).
CONFIGS = [
    {"max_iter": 5, "history_size": 3},
    {"lr": 0.5, "max_iter": 4, "history_size": 2},
    {"max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"},
    # Short first trials: the search extrapolates (and runs out of evaluations with 0.002).
    {"lr": 0.01, "max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"},
    {"lr": 0.002, "max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"},
    {"max_iter": 10, "max_eval": 6, "history_size": 4, "line_search_fn": "strong_wolfe"},
    {"max_iter": 8, "tolerance_grad": 1e-3, "tolerance_change": 1e-4, "history_size": 2,
     "line_search_fn": "strong_wolfe"},
]


CASES = [(problem, config) for problem in ("rosenbrock", "least_squares", "mlp")
         for config in CONFIGS] + [
    # Huge first trials: the zoom shrinks the bracket, with its safeguards.
    ("mlp", {"lr": 1000.0, "max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", {"lr": 1e4, "max_iter": 20, "history_size": 3,
                    "line_search_fn": "strong_wolfe"}),
]


def _case_id(case):
    problem, config = case
    return "-".join([problem, *(f"{k}={v}" for k, v in config.items())])


def _compare(torch, problem, kwargs, steps=4, rtol=1e-10, atol=1e-12):
    mine, theirs = _Run(xpnet, problem, kwargs), _Run(torch, problem, kwargs)
    for _ in range(steps):
        assert mine.step() == pytest.approx(theirs.step(), rel=rtol, abs=atol)
        assert mine.counts == theirs.counts
        for got, want in zip(mine.params, theirs.params):
            assert_close(got, want, rtol=rtol, atol=atol)
    return mine, theirs


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_matches_torch(torch, case):
    _compare(torch, *case)


def test_strong_wolfe_matches_torchs_line_search(torch):
    from torch.optim.lbfgs import _strong_wolfe  # the oracle, private in torch

    functions = {  # name: (start, loss and gradient)
        "wavy": ([0.3, -1.1, 2.0], lambda x: (np.sum(np.sin(5 * x) + 0.1 * x * x),
                                              5 * np.cos(5 * x) + 0.2 * x)),
        "quartic": ([0.5, -0.2, 1.7], lambda x: (np.sum(x**4 - 3 * x * x + x),
                                                 4 * x**3 - 6 * x + 1)),
        "quadratic": ([1.0, -0.5], lambda x: (np.sum(x * x), 2 * x)),
    }
    # Steps from far too short (extrapolation) to far too long (zoom), one past the minimum
    # of the quadratic (0.97: lower but rising), tolerances that stop the zoom at once (10.0),
    # and a search cut short (max_ls=3).
    as_torch = functools.partial(torch.tensor, dtype=torch.float64)
    for name, t, tolerance, max_ls in itertools.product(
            functions, [1e-3, 0.3, 0.97, 3.0, 30.0], [1e-9, 1e-2, 10.0], [25, 3]):
        start, fn = functions[name]
        x = np.array(start)
        f, g = fn(x)
        d = -g

        def evaluate(step, x=x, d=d, fn=fn):
            value, grad = fn(x + step * d)
            return float(value), grad

        def torch_evaluate(x0, step, direction, evaluate=evaluate):  # torch's signature
            value, grad = evaluate(float(step))
            return value, as_torch(grad)

        mine = strong_wolfe(evaluate, t, d, float(f), g, float(g @ d), tolerance_change=tolerance,
                            max_ls=max_ls, xp=np)
        theirs = _strong_wolfe(torch_evaluate, as_torch(x), t, as_torch(d), float(f), as_torch(g),
                               as_torch(float(g @ d)), tolerance_change=tolerance, max_ls=max_ls)
        case = (name, t, tolerance, max_ls)
        assert mine[3] == theirs[3], case  # the same evaluations: the same branches
        # Their dot products round differently in the last bit (BLAS).
        assert mine[2] == pytest.approx(float(theirs[2]), rel=1e-13), case
        assert mine[0] == pytest.approx(theirs[0], rel=1e-13), case
        np.testing.assert_allclose(mine[1], theirs[1].numpy(), rtol=1e-12, atol=1e-14)


def test_rosenbrock_is_solved_as_torch_solves_it(torch):
    mine, _ = _compare(torch, "rosenbrock", {"line_search_fn": "strong_wolfe"}, steps=3,
                       rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(mine.params[0].numpy(), np.ones(5), atol=1e-4)


def test_trajectory_matches_torch_on_every_backend(torch, backend):
    kwargs = {"max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"}
    mine, _ = _compare(torch, "mlp", kwargs, steps=3)
    for p in mine.params:
        assert_on_backend(p, backend)
    state = mine.opt.state[mine.params[0]]
    for value in [state["d"], state["prev_flat_grad"], *state["old_dirs"], *state["old_stps"]]:
        assert_on_backend(value, backend)
        assert value.dtype is xpnet.float64


def test_state_dict_matches_torch_names_and_values(torch):
    kwargs = {"max_iter": 5, "history_size": 2, "line_search_fn": "strong_wolfe"}
    mine, theirs = _compare(torch, "least_squares", kwargs, steps=2)
    got, want = mine.opt.state_dict(), theirs.opt.state_dict()
    assert got["param_groups"] == want["param_groups"]
    assert set(got["state"]) == set(want["state"]) == {0}
    got, want = got["state"][0], want["state"][0]
    assert set(got) == set(want)
    assert (got["func_evals"], got["n_iter"]) == (want["func_evals"], want["n_iter"])
    for key in ("d", "prev_flat_grad"):
        assert_close(got[key], want[key])
    for key in ("old_dirs", "old_stps", "ro", "al"):
        assert len(got[key]) == len(want[key]) == 2
        for a, b in zip(got[key], want[key]):
            assert_close(a, b)
    for key in ("t", "H_diag", "prev_loss"):
        assert float(got[key]) == pytest.approx(float(want[key]), rel=1e-10)


def test_loads_torch_state_dict_mid_run_and_continues_as_torch(torch):
    kwargs = {"max_iter": 4, "history_size": 3, "line_search_fn": "strong_wolfe"}
    theirs = _Run(torch, "mlp", kwargs)
    for _ in range(2):
        theirs.step()
    mine = _Run(xpnet, "mlp", {"lr": 0.1}, init=[p.detach().numpy() for p in theirs.params])
    mine.opt.load_state_dict(copy.deepcopy(theirs.opt.state_dict()))  # torch tensors, 0-d too
    assert mine.opt.param_groups[0]["line_search_fn"] == "strong_wolfe"
    for _ in range(2):
        assert mine.step() == pytest.approx(theirs.step(), rel=1e-10)
        assert mine.counts == theirs.counts
        for got, want in zip(mine.params, theirs.params):
            assert_close(got, want)


def test_state_dict_round_trip_mid_run_continues_identically():
    kwargs = {"max_iter": 4, "history_size": 3, "line_search_fn": "strong_wolfe"}
    first = _Run(xpnet, "mlp", kwargs)
    for _ in range(2):
        first.step()
    saved = first.opt.state_dict()
    d_saved = saved["state"][0]["d"].numpy()
    second = _Run(xpnet, "mlp", {}, init=[p.numpy() for p in first.params])
    second.opt.load_state_dict(saved)
    assert second.opt.param_groups[0]["history_size"] == 3
    for _ in range(2):
        assert first.step() == second.step()
        for a, b in zip(first.params, second.params):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(saved["state"][0]["d"].numpy(), d_saved)  # a snapshot


def test_a_converged_start_returns_the_loss_without_moving(torch):
    counts = []
    for lib in (xpnet, torch):
        w = lib.tensor([0.0, 0.0], dtype=lib.float64, requires_grad=True)  # the minimum
        opt = (optim.LBFGS if lib is xpnet else lib.optim.LBFGS)([w])

        def closure():
            opt.zero_grad()
            loss = (w * w).sum() + 1.0
            loss.backward()
            return loss

        assert float(opt.step(closure).detach()) == 1.0
        np.testing.assert_array_equal(w.detach().numpy(), np.zeros(2))
        counts.append(dict(opt.state[w]))
    assert counts[0] == counts[1] == {"func_evals": 1, "n_iter": 0}


def test_parameters_without_gradient_count_as_zero_gradient(torch):
    kwargs = {"max_iter": 6, "line_search_fn": "strong_wolfe"}
    mine, theirs = _Run(xpnet, "least_squares", kwargs), _Run(torch, "least_squares", kwargs)
    unused = xpnet.ones(3, dtype="float64", requires_grad=True)
    mine.opt = optim.LBFGS([*mine.params, unused], **kwargs)
    theirs.opt = torch.optim.LBFGS(
        [*theirs.params, torch.ones(3, dtype=torch.float64, requires_grad=True)], **kwargs)
    assert mine.step() == pytest.approx(theirs.step(), rel=1e-12)
    assert mine.counts == theirs.counts
    for got, want in zip(mine.params, theirs.params):
        assert_close(got, want)
    np.testing.assert_array_equal(unused.numpy(), np.ones(3))


def test_sparse_gradients_are_densified():
    def trained(sparse):
        xpnet.manual_seed(0)
        emb = xpnet.nn.Embedding(6, 2, sparse=sparse, dtype="float64")
        opt = optim.LBFGS(emb.parameters(), max_iter=5, line_search_fn="strong_wolfe")
        index = xpnet.tensor([0, 2, 2, 5])

        def closure():
            opt.zero_grad()
            loss = ((emb(index) - 1.0) ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return emb.weight.numpy()

    np.testing.assert_array_equal(trained(True), trained(False))


def test_closure_runs_with_grad_enabled_and_its_result_is_returned():
    w = xpnet.tensor([2.0, -1.0], dtype="float64", requires_grad=True)
    opt = optim.LBFGS([w], max_iter=3)
    losses = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        losses.append(loss)
        return loss

    with xpnet.no_grad():
        result = opt.step(closure)
    assert result is losses[0] and len(losses) == 3
    assert w.requires_grad and w.is_leaf


def test_float32_stays_float32_and_tracks_torch(torch):
    def run(lib, dtype):
        fn, arrays, data = _problem("mlp")
        params = [lib.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
        data = [lib.tensor(a.astype(np.float32)) for a in data]
        opt = (optim.LBFGS if lib is xpnet else lib.optim.LBFGS)(params, max_iter=4)

        def closure():
            opt.zero_grad()
            loss = fn(lib, params, data)
            loss.backward()
            return loss

        opt.step(closure)
        return params

    for got, want in zip(run(xpnet, "float32"), run(torch, torch.float32)):
        assert got.dtype is xpnet.float32
        assert_close(got, want, rtol=1e-4, atol=1e-5)  # float32 rounding, op order differs


def test_cubic_interpolate_finds_the_minimizer_of_a_cubic():
    def f(x):
        return x**3 - 3 * x  # minimizer at x = 1

    def g(x):
        return 3 * x * x - 3

    assert cubic_interpolate(0.0, f(0.0), g(0.0), 2.0, f(2.0), g(2.0)) == pytest.approx(1.0)
    assert cubic_interpolate(2.0, f(2.0), g(2.0), 0.0, f(0.0), g(0.0)) == pytest.approx(1.0)
    assert cubic_interpolate(0.0, f(0.0), g(0.0), 2.0, f(2.0), g(2.0),
                             bounds=(1.5, 3.0)) == 1.5
    # No real minimizer (a cubic without a local minimum; a concave parabola): the middle of
    # the bounds. A rising line's minimizer is at -infinity: the lower bound.
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 0.5, 1.0, bounds=(0.0, 4.0)) == 2.0
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 0.0, -1.0, bounds=(0.0, 4.0)) == 2.0
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 1.0, 1.0, bounds=(0.5, 4.0)) == 0.5


def test_defaults_and_param_group_match_torch(torch):
    w = xpnet.zeros(2, requires_grad=True)
    group = {k: v for k, v in optim.LBFGS([w]).param_groups[0].items() if k != "params"}
    want = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)]).param_groups[0]
    assert group == {k: v for k, v in want.items() if k != "params"}
    assert group["max_eval"] == 25


def _bad_cases():
    w, v = xpnet.zeros(2, requires_grad=True), xpnet.zeros(3, requires_grad=True)
    return [
        (lambda: optim.LBFGS([{"params": [w]}, {"params": [v], "lr": 0.1}]), ValueError,
         r"^LBFGS: only one parameter group is supported"),
        (lambda: optim.LBFGS([w]).add_param_group({"params": [v]}), ValueError,
         r"^LBFGS: only one parameter group is supported"),
        (lambda: optim.LBFGS([w], line_search_fn="backtracking"), ValueError,
         r"^LBFGS: line_search_fn must be None or 'strong_wolfe', got 'backtracking'$"),
        (lambda: optim.LBFGS([w], max_iter=0), ValueError,
         r"^LBFGS: max_iter must be >= 1, got 0$"),
        (lambda: optim.LBFGS([w], max_iter=2.5), TypeError,
         r"^LBFGS: max_iter must be an int, got float$"),
        (lambda: optim.LBFGS([w], max_eval=0), ValueError, r"^LBFGS: max_eval must be >= 1"),
        (lambda: optim.LBFGS([w], history_size=0), ValueError,
         r"^LBFGS: history_size must be >= 1, got 0$"),
        (lambda: optim.LBFGS([w], lr=-1.0), ValueError, r"^LBFGS: lr must be >= 0, got -1.0$"),
        (lambda: optim.LBFGS([w], tolerance_grad=-1e-7), ValueError,
         r"^LBFGS: tolerance_grad must be >= 0"),
        (lambda: optim.LBFGS([w], tolerance_change="small"), TypeError,
         r"^LBFGS: tolerance_change must be a real number, got str$"),
        (lambda: optim.LBFGS([w, xpnet.zeros(2, requires_grad=True, backend="array_api_strict")]),
         ValueError, r"^LBFGS: all parameters must be on one backend, got \["),
        (lambda: optim.LBFGS([w]).step(), TypeError,
         r"^LBFGS.step: needs a closure that clears the gradients, computes the loss, calls "
         r"backward\(\) and returns the loss; got NoneType$"),
    ]


@pytest.mark.parametrize("index", range(len(_bad_cases())))
def test_bad_input_raises_clear_errors(index):
    make, error, match = _bad_cases()[index]
    with pytest.raises(error, match=match):
        make()


def test_load_state_dict_rejects_a_vector_of_the_wrong_length_and_loads_nothing():
    first = _Run(xpnet, "least_squares", {"max_iter": 3})
    first.step()
    saved = first.opt.state_dict()
    saved["state"][0]["d"] = xpnet.zeros(4, dtype="float64")
    fresh = _Run(xpnet, "least_squares", {"lr": 0.5})
    with pytest.raises(ValueError, match=r"LBFGS.load_state_dict: state 'd' has shape \(4,\), "
                                         r"expected \(5,\)"):
        fresh.opt.load_state_dict(saved)
    assert fresh.opt.state == {} and fresh.opt.param_groups[0]["lr"] == 0.5
