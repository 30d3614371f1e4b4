"""L-BFGS with an optional strong-Wolfe line search (Nocedal and Wright, "Numerical
Optimization", 2nd ed., 2006: Algorithms 7.4/7.5, 3.5 and 3.6).

Everything works on one flat vector holding every parameter (the quasi-Newton matrix couples
them all): gradients are gathered into it, and a step writes ``x + t * d`` back into the
parameters. The scalars of the method (curvatures, step lengths, losses) are Python floats.
"""

from __future__ import annotations

import math
import numbers

from xpnet.autograd.grad_mode import enable_grad, no_grad
from xpnet.autograd.sparse import dense_array

from .optimizer import Optimizer, check_number, new_state_tensor, store

__all__ = ["LBFGS", "cubic_interpolate", "lbfgs_direction", "strong_wolfe"]

_STATE_VECTORS = ("d", "prev_flat_grad")  # flat state vectors (one entry per parameter value)
_STATE_LISTS = ("old_dirs", "old_stps")   # lists of flat vectors: the y_i and the s_i
_STATE_SCALARS = ("t", "H_diag", "prev_loss")


def lbfgs_direction(grad, old_dirs, old_stps, ro, gamma, *, xp):
    """The quasi-Newton direction :math:`d = -H g` by the two-loop recursion (Nocedal and
    Wright, Algorithm 7.4).

    Parameters
    ----------
    grad : array of shape (n,)
        The gradient :math:`g`.
    old_dirs, old_stps : list of arrays of shape (n,)
        The gradient changes :math:`y_i` and the steps :math:`s_i`, oldest first.
    ro : list of float
        :math:`\\rho_i = 1 / y_i^\\top s_i`.
    gamma : float
        Scale of the initial matrix :math:`H^0 = \\gamma I` (``H_diag``).

    Returns
    -------
    direction : array of shape (n,)
    alphas : list of float
        The :math:`\\alpha_i` of the first loop, oldest first (PyTorch keeps them as ``al``).
    """
    q = -grad
    alphas = [0.0] * len(old_dirs)
    for i in reversed(range(len(old_dirs))):  # newest pair first
        alphas[i] = float(xp.vecdot(old_stps[i], q)) * ro[i]
        q = q + (-alphas[i]) * old_dirs[i]
    r = q * gamma
    for i in range(len(old_dirs)):  # oldest pair first
        beta = float(xp.vecdot(old_dirs[i], r)) * ro[i]
        r = r + (alphas[i] - beta) * old_stps[i]
    return r, alphas


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through two points with their values and slopes (Nocedal and
    Wright, eq. 3.59), clipped to ``bounds`` (default: the interval between the points); the
    middle of the bounds when the cubic has no minimizer."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if x1 == x2:  # no secant through one point
        return (low + high) / 2.0
    # The operations in PyTorch's order: d1 often cancels, so one rounding more shows.
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    discriminant = d1 * d1 - g1 * g2
    if not discriminant >= 0:  # no real minimizer (or a NaN from degenerate points)
        return (low + high) / 2.0
    d2 = math.sqrt(discriminant)
    # Written from the right-hand point, so that swapping the points gives the same rounding.
    (xl, gl), (xr, gr) = ((x1, g1), (x2, g2)) if x1 <= x2 else ((x2, g2), (x1, g1))
    minimizer = xr - (xr - xl) * _divide(gr + d2 - d1, gr - gl + 2 * d2)
    if math.isnan(minimizer):
        return (low + high) / 2.0
    return min(max(minimizer, low), high)  # a minimizer at infinity lands on a bound


def _divide(a, b):
    """``a / b`` with IEEE semantics (an infinity or NaN instead of ZeroDivisionError)."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


class _Point:
    """A trial step length with the loss, gradient and directional derivative there."""

    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t, f, g, gtd):
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def strong_wolfe(evaluate, t, d, f, g, gtd, *, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25, xp):
    """A step length along ``d`` that satisfies the strong Wolfe conditions (Nocedal and Wright,
    Algorithms 3.5 and 3.6, with the safeguards of Schmidt's minFunc that PyTorch uses).

    Parameters
    ----------
    evaluate : callable
        ``evaluate(t) -> (loss, flat gradient)`` at the parameters ``x + t * d``.
    t : float
        First trial step.
    d : array of shape (n,)
        A descent direction.
    f, g, gtd : float, array of shape (n,), float
        Loss, gradient and directional derivative :math:`g^\\top d` at ``t = 0``.
    c1, c2 : float
        Sufficient-decrease and curvature constants, :math:`0 < c_1 < c_2 < 1`.
    tolerance_change : float
        Stop zooming once the bracket moves the parameters by less than this.
    max_ls : int
        Most evaluations after the first (at ``t``); with 0, only that one.

    Returns
    -------
    (loss, grad, t, evaluations)
        The loss and gradient at the step length ``t`` found, and the number of evaluations.
    """
    d_norm = float(xp.max(xp.abs(d)))
    origin = _Point(0, f, g, gtd)

    def trial(step):
        loss, grad = evaluate(step)
        return _Point(step, loss, grad, float(xp.vecdot(grad, d)))

    def insufficient_decrease(point):  # the Armijo condition fails
        return point.f > f + c1 * point.t * gtd

    def curvature(point):  # the strong curvature condition
        return abs(point.gtd) <= -c2 * gtd

    # Algorithm 3.5: grow the step until an interval is known to hold acceptable steps.
    previous, current = origin, trial(t)
    evaluations, iteration = 1, 0
    bracket, done = None, False
    while iteration < max_ls:
        if insufficient_decrease(current) or (iteration > 1 and current.f >= previous.f):
            bracket = [previous, current]
            break
        if curvature(current):
            bracket, done = [current], True
            break
        if current.gtd >= 0:  # the slope turned: a minimizer lies behind
            bracket = [previous, current]
            break
        # Extrapolate, at least a little beyond the current step and at most 10 times it.
        step = cubic_interpolate(previous.t, previous.f, previous.gtd, current.t, current.f,
                                 current.gtd, bounds=(current.t + 0.01 * (current.t - previous.t),
                                                      current.t * 10))
        previous, current = current, trial(step)
        evaluations += 1
        iteration += 1
    if bracket is None:  # out of evaluations while still descending
        bracket = [origin, current]

    # Algorithm 3.6: shrink the bracket around a point of sufficient decrease.
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    stalled = False
    while not done and iteration < max_ls:
        if abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change:
            break
        step = cubic_interpolate(bracket[0].t, bracket[0].f, bracket[0].gtd, bracket[1].t,
                                 bracket[1].f, bracket[1].gtd)
        # Safeguard: a trial within 10% of an end of the bracket shrinks it too slowly; the
        # second time in a row (or outside the bracket), move it 10% inside.
        left, right = min(bracket[0].t, bracket[1].t), max(bracket[0].t, bracket[1].t)
        margin = 0.1 * (right - left)
        if min(right - step, step - left) < margin:
            if stalled or step >= right or step <= left:
                step = right - margin if abs(step - right) < abs(step - left) else left + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        current = trial(step)
        evaluations += 1
        iteration += 1
        if insufficient_decrease(current) or current.f >= bracket[low].f:
            bracket[high] = current  # the new point is the better-bounded high end
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if curvature(current):
                done = True
            elif current.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]  # keep a minimizer between the ends
            bracket[low] = current
    best = bracket[low]
    return best.f, best.g, best.t, evaluations


class LBFGS(Optimizer):
    r"""L-BFGS (Liu and Nocedal, 1989; Nocedal and Wright, "Numerical Optimization",
    Algorithms 7.4 and 7.5), with PyTorch's ``torch.optim.LBFGS`` interface and iterations.

    Each call of `step` runs up to ``max_iter`` iterations, calling ``closure`` to re-evaluate the
    loss and gradients. An iteration moves along the quasi-Newton direction :math:`d = -H g`,
    where :math:`H` approximates the inverse Hessian from the last ``history_size`` pairs of
    steps :math:`s_i` and gradient changes :math:`y_i` (pairs with :math:`y_i^\top s_i \le
    10^{-10}` are skipped, so :math:`H` stays positive definite), applied by the two-loop
    recursion (`lbfgs_direction`) with :math:`H^0 = \frac{s^\top y}{y^\top y} I`. The step
    length is ``lr`` (on the very first iteration :math:`\min(1, 1/\|g\|_1)\,\mathrm{lr}`), or
    with ``line_search_fn="strong_wolfe"`` the result of a line search (`strong_wolfe`) started
    there. The history persists between calls of `step`.

    Parameters
    ----------
    params : iterable of Tensor or of (name, Tensor) pairs
        Tensors to optimize, all on one backend; one parameter group only.
    lr : float, default=1
        Step length (initial step of the line search).
    max_iter : int, default=20
        Most iterations per `step`.
    max_eval : int or None, default=None
        Most closure evaluations per `step` (the line search gets what is left; without it, the
        count is checked after each iteration); None means ``max_iter * 5 // 4``.
    tolerance_grad : float, default=1e-7
        Stop when the largest gradient magnitude is at most this.
    tolerance_change : float, default=1e-9
        Stop when the step or the change of loss is below this.
    history_size : int, default=100
        Number of :math:`(s_i, y_i)` pairs kept.
    line_search_fn : None or "strong_wolfe", default=None
        The line search; None takes fixed steps of length ``lr``.

    Raises
    ------
    ValueError
        If there is more than one parameter group, or a hyperparameter is out of range.
    TypeError
        If a hyperparameter has the wrong type.

    Notes
    -----
    State (kept under the first parameter, as in PyTorch): ``func_evals``, ``n_iter`` (ints,
    over all steps), ``d`` and ``prev_flat_grad`` (flat vectors), ``old_dirs`` and ``old_stps``
    (lists of flat vectors :math:`y_i` and :math:`s_i`), ``ro``, ``al`` (lists of floats),
    ``t``, ``H_diag`` and ``prev_loss`` (floats). `load_state_dict` takes this layout from
    PyTorch's ``LBFGS.state_dict()`` too.

    Memory: ``2 * history_size`` flat vectors. Every parameter is re-evaluated several times per
    `step`, so this suits full-batch problems (no noise in the gradients).

    Sparse gradients are densified, as in PyTorch.

    Examples
    --------
    >>> import xpnet
    >>> w = xpnet.tensor([1.5, -0.5], dtype="float64", requires_grad=True)
    >>> opt = LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
    ...     loss.backward()
    ...     return loss
    >>> for _ in range(3):
    ...     loss = opt.step(closure)
    >>> [round(v, 4) for v in w.tolist()]
    [1.0, 1.0]
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None and _is_int(max_iter):
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        """Refused after the first group: L-BFGS works on one vector of all parameters, with
        one set of hyperparameters (PyTorch's ``LBFGS`` has the same rule).

        Raises
        ------
        ValueError
            If the optimizer already has its parameter group.
        """
        if self.param_groups:
            raise ValueError("LBFGS: only one parameter group is supported (no per-parameter "
                             "options); pass all tensors in one list, or one dict")
        super().add_param_group(param_group)
        params = self.param_groups[0]["params"]
        backends = {p.backend for p in params}
        if len(backends) > 1:
            self.param_groups.clear()
            raise ValueError(f"LBFGS: all parameters must be on one backend, got "
                             f"{sorted(backends)}")

    def _check_group(self, group):
        check_number("LBFGS", "lr", group["lr"], 0)
        for key in ("max_iter", "max_eval", "history_size"):
            value = group[key]
            if not _is_int(value):
                raise TypeError(f"LBFGS: {key} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"LBFGS: {key} must be >= 1, got {value}")
        check_number("LBFGS", "tolerance_grad", group["tolerance_grad"], 0)
        check_number("LBFGS", "tolerance_change", group["tolerance_change"], 0)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{group['line_search_fn']!r}")

    def _sparse_unsupported(self, group):
        return ""  # gathered densely (`_gather_flat_grad`)

    # -- the flat vector ---------------------------------------------------------------------
    @property
    def _params(self):
        return self.param_groups[0]["params"]

    def _gather_flat_grad(self):
        xp = self._params[0]._backend.xp
        pieces = []
        for position, p in enumerate(self._params):
            if p._grad is None:  # a parameter the loss does not reach: a zero gradient
                pieces.append(xp.reshape(xp.zeros_like(p.array), (-1,)))
                continue
            grad = dense_array(self._check_grad(p, self.param_groups[0], position))
            pieces.append(xp.reshape(grad, (-1,)))
        return xp.concat(pieces) if len(pieces) > 1 else pieces[0]

    def _move(self, start, t, d):
        """Set the parameters to ``start + t * d`` (``start``: their arrays)."""
        xp = self._params[0]._backend.xp
        offset = 0
        for p, base in zip(self._params, start):
            size = math.prod(p.shape)
            store(p, base + t * xp.reshape(d[offset:offset + size], p.shape))
            offset += size

    # -- the step ----------------------------------------------------------------------------
    @no_grad()
    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations.

        Parameters
        ----------
        closure : callable
            Clears the gradients, computes the loss, calls ``backward()`` and returns the loss;
            it runs with gradients recorded, once per evaluation.

        Returns
        -------
        loss : object
            What the first call of ``closure`` returned (the loss before this step).

        Raises
        ------
        TypeError
            If ``closure`` is missing or not callable.
        """
        if not callable(closure):
            raise TypeError(f"LBFGS.step: needs a closure that clears the gradients, computes "
                            f"the loss, calls backward() and returns the loss; got "
                            f"{type(closure).__name__}")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        xp = self._params[0]._backend.xp

        def evaluate():
            with enable_grad():
                value = closure()
            return value, float(value), self._gather_flat_grad()

        def converged(grad):
            return float(xp.max(xp.abs(grad))) <= tolerance_grad

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        first_loss, loss, grad = evaluate()
        evaluations = 1
        state["func_evals"] += 1
        if converged(grad):
            return first_loss

        d, t = self._state_vector(state, "d"), state.get("t")
        prev_grad = self._state_vector(state, "prev_flat_grad")
        prev_loss = state.get("prev_loss")
        old_dirs = [v.array for v in state.get("old_dirs", [])]
        old_stps = [v.array for v in state.get("old_stps", [])]
        ro = list(state.get("ro", []))
        gamma = state.get("H_diag")

        iteration = 0
        while iteration < max_iter:
            iteration += 1
            state["n_iter"] += 1
            # The direction: steepest descent on the very first iteration, then quasi-Newton.
            if state["n_iter"] == 1:
                d = -grad
                old_dirs, old_stps, ro, gamma = [], [], [], 1
            else:
                y, s = grad - prev_grad, d * t
                ys = float(xp.vecdot(y, s))
                if ys > 1e-10:  # the curvature condition; otherwise keep H unchanged
                    while len(old_dirs) >= history_size:  # forget the oldest pair
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    gamma = ys / float(xp.vecdot(y, y))
                d, alphas = lbfgs_direction(grad, old_dirs, old_stps, ro, gamma, xp=xp)
                al = state.setdefault("al", [None] * history_size)
                al[:len(alphas)] = alphas
            prev_grad, prev_loss = grad, loss

            # The step length: scaled down on the very first iteration, where d = -g.
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.sum(xp.abs(grad)))) * lr
            else:
                t = lr
            gtd = float(xp.vecdot(grad, d))
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break

            start = [p.array for p in self._params]
            if group["line_search_fn"] == "strong_wolfe":
                def along(step_length, start=start, d=d):
                    self._move(start, step_length, d)
                    _, value, flat_grad = evaluate()
                    for p, base in zip(self._params, start):
                        store(p, base)
                    return value, flat_grad

                # The search may use what is left of this step's evaluations (max_eval).
                loss, grad, t, used = strong_wolfe(
                    along, t, d, loss, grad, gtd, tolerance_change=tolerance_change,
                    max_ls=max_eval - evaluations, xp=xp)
                self._move(start, t, d)
                grad_converged = converged(grad)
            else:
                self._move(start, t, d)
                used, grad_converged = 0, False
                if iteration != max_iter:  # after the last one, the next step evaluates
                    _, loss, grad = evaluate()
                    used, grad_converged = 1, converged(grad)
            evaluations += used
            state["func_evals"] += used

            if (iteration == max_iter or evaluations >= max_eval or grad_converged
                    or float(xp.max(xp.abs(d * t))) <= tolerance_change
                    or abs(loss - prev_loss) < tolerance_change):
                break

        p0 = self._params[0]
        state["d"] = new_state_tensor(p0, d)
        state["t"] = t
        state["old_dirs"] = [new_state_tensor(p0, v) for v in old_dirs]
        state["old_stps"] = [new_state_tensor(p0, v) for v in old_stps]
        state["ro"] = ro
        state["H_diag"] = gamma
        state["prev_flat_grad"] = new_state_tensor(p0, prev_grad)
        state["prev_loss"] = prev_loss
        return first_loss

    @staticmethod
    def _state_vector(state, key):
        value = state.get(key)
        return None if value is None else value.array

    # -- state dicts -------------------------------------------------------------------------
    def load_state_dict(self, state_dict):
        """Load a state made by `state_dict` or by PyTorch's ``LBFGS.state_dict()``: vectors are
        copied to the parameters' backend and dtype, 0-d tensors become floats.

        Raises
        ------
        TypeError
            If ``state_dict`` does not have the layout of `state_dict`.
        ValueError
            If the groups or parameters do not match, or a state vector's length is not the
            total number of parameter values; nothing is loaded then.
        """
        name = "LBFGS.load_state_dict"
        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict):
            super().load_state_dict(state_dict)  # reports the bad layout
            return
        saved_state = state_dict["state"]
        if set(saved_state) - {0}:
            raise ValueError(f"{name}: LBFGS keeps its state under parameter 0, got state for "
                             f"parameters {sorted(saved_state, key=str)}")
        state = {}
        if saved_state:
            state = self._cast_state(name, dict(saved_state[0]))
        super().load_state_dict({**state_dict, "state": {}})
        if state:
            self.state[self._params[0]] = state

    def _cast_state(self, name, saved):
        from xpnet.creation import tensor

        p0 = self._params[0]
        size = sum(math.prod(p.shape) for p in self._params)

        def vector(key, value):
            value = tensor(value, dtype=p0.dtype, backend=p0.backend)
            if value.shape != (size,):
                raise ValueError(f"{name}: state {key!r} has shape {value.shape}, expected "
                                 f"({size},) (one entry per parameter value)")
            return value

        def number(key, value):
            if value is None or isinstance(value, numbers.Real):
                return value
            try:
                return float(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}: state {key!r} must be a number or a one-element "
                                 f"tensor, got {value!r}") from exc

        for key in _STATE_VECTORS:
            if saved.get(key) is not None:
                saved[key] = vector(key, saved[key])
        for key in _STATE_LISTS:
            if key in saved:
                saved[key] = [vector(key, v) for v in saved[key]]
        for key in _STATE_SCALARS:
            if key in saved:
                saved[key] = number(key, saved[key])
        for key in ("ro", "al"):
            if key in saved:
                saved[key] = [number(key, v) for v in saved[key]]
        for key in ("func_evals", "n_iter"):
            if key in saved:
                saved[key] = int(number(key, saved[key]))
        return saved


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)

