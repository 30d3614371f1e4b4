"""Check analytical gradients against central finite differences (in float64)."""

from __future__ import annotations

from . import grad_mode
from .graph import run_backward
from .tensor import Tensor

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """The analytical and numerical Jacobians disagree; the message says where and by how much."""


def _outputs(result):
    outs = result if isinstance(result, (tuple, list)) else (result,)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _flat_values(backend, outs):
    """The outputs' values as one float64 vector on ``backend`` (outputs may live elsewhere)."""
    xp = backend.xp
    parts = []
    for o in outs:
        data = o.array if o._backend is backend else backend.asarray(o._backend.to_numpy(o.array))
        parts.append(xp.astype(xp.reshape(data, (-1,)), xp.float64))
    return xp.concat(parts)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True) -> bool:
    """Compare ``fn``'s backward with finite differences for every input that requires grad.

    Parameters
    ----------
    fn : callable
        Takes ``*inputs`` and returns a Tensor or a tuple of Tensors.
    inputs : Tensor or sequence
        Tensors that require grad are checked; they must be float64 (finite differences in
        float32 cannot resolve the errors we are looking for). Other arguments pass through.
    eps : float
        Step of the central difference.
    atol, rtol : float
        Passes when ``|analytical - numerical| <= atol + rtol * |numerical|`` everywhere.
    raise_exception : bool, default=True
        Raise `GradcheckError` on a mismatch (else return False).

    Returns
    -------
    bool
        True when every Jacobian entry agrees.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype.name != "float64":
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype.name}; finite "
                            f"differences need float64 inputs")
    # Fresh leaves, so the caller's tensors get no .grad written into them.
    leaves = list(inputs)
    for i in checked:
        leaves[i] = Tensor._make(inputs[i].array, inputs[i]._backend).requires_grad_(True)
    xp = leaves[checked[0]]._backend.xp

    outs = _outputs(fn(*leaves))
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point Tensor")
    sizes = [o.numel() for o in outs]
    if sum(sizes) == 0:
        return True  # an empty Jacobian has nothing to disagree about
    backend = leaves[checked[0]]._backend

    def zeros_like_input(i):
        return xp.zeros((leaves[i].numel(),), dtype=xp.float64, device=leaves[i]._backend.device)

    # Analytical Jacobian rows: one backward per output element, with a one-hot upstream grad.
    rows = {i: [] for i in checked}
    for o, size in zip(outs, sizes):
        for j in range(size):
            if not o.requires_grad:
                for i in checked:
                    rows[i].append(zeros_like_input(i))
                continue
            oxp = o._backend.xp
            onehot = oxp.zeros((size,), dtype=o.array.dtype, device=o._backend.device)
            onehot[j] = 1
            grads = run_backward((o,), (Tensor._make(oxp.reshape(onehot, o.shape), o._backend),),
                                 retain_graph=True, capture=[leaves[i] for i in checked])
            for i, g in zip(checked, grads):
                rows[i].append(zeros_like_input(i) if g is None
                               else xp.astype(xp.reshape(g.array, (-1,)), xp.float64))

    for i in checked:
        analytical = xp.stack(rows[i], axis=0)  # (total outputs, input elements)
        base = leaves[i].array
        flat = xp.reshape(base, (-1,))
        columns = []
        for e in range(flat.shape[0]):
            values = []
            for sign in (1, -1):
                moved = xp.asarray(flat, copy=True)
                moved[e] = moved[e] + sign * eps
                args = list(leaves)
                args[i] = Tensor._make(xp.reshape(moved, base.shape), leaves[i]._backend)
                with grad_mode.no_grad():
                    values.append(_flat_values(backend, _outputs(fn(*args))))
            columns.append((values[0] - values[1]) / (2 * eps))
        numerical = xp.stack(columns, axis=1)
        bad = xp.abs(analytical - numerical) > atol + rtol * xp.abs(numerical)
        if bool(xp.any(bad)):
            flat_bad = xp.reshape(bad, (-1,))
            where = int(xp.argmax(xp.astype(flat_bad, xp.int8)))
            out_index, in_index = divmod(where, numerical.shape[1])
            got = float(xp.reshape(analytical, (-1,))[where])
            want = float(xp.reshape(numerical, (-1,))[where])
            message = (f"gradcheck: Jacobian mismatch for input {i} of shape {leaves[i].shape} "
                       f"at input element {in_index}, output element {out_index} (outputs "
                       f"flattened and concatenated): analytical {got:.10g}, numerical "
                       f"{want:.10g}; {int(xp.sum(xp.astype(flat_bad, xp.int64)))} of "
                       f"{flat_bad.shape[0]} entries differ")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
