"""`KeyedVectors`: vectors looked up by key (word), with gensim 4's names and behaviour.

The vectors are one array of the backend, of shape (number of keys, vector_size); queries
(`most_similar`, `similarity`, `rank`...) are matrix-vector products and sorts on that backend,
and only their results become Python floats. The queries live in `similarity.py`, reading and
writing the word2vec C tool's formats in `formats.py`, the analogy and word-pair benchmarks in
`evaluation.py`.
"""

from __future__ import annotations

import logging
import numbers

from xpnet import backend as _backends
from xpnet import dtypes as _dt
from xpnet.autograd.tensor import Tensor
from xpnet.backend.random import Generator

from .similarity import SimilarityQueries, _is_key

__all__ = ["KeyedVectors", "vector_dtype"]

logger = logging.getLogger(__name__)

_FLOAT_NAMES = ("float16", "float32", "float64")


def vector_dtype(backend, dtype, where="KeyedVectors"):
    """The backend's float dtype for ``dtype``: a name, an xpnet dtype, a NumPy dtype or scalar
    type, or a dtype of the backend; float16 too, which xpnet's tensors lack but the vectors
    (on NumPy, torch or CuPy) can hold, as gensim's ``datatype=np.float16``.

    Raises
    ------
    TypeError
        For a dtype that is not float16, float32 or float64, or one the backend lacks.
    """
    name = getattr(dtype, "__name__", None) or getattr(dtype, "name", None) or str(dtype)
    name = str(name).rsplit(".", 1)[-1]
    if name not in _FLOAT_NAMES:
        raise TypeError(f"{where}: expected a float dtype (float16, float32 or float64), got "
                        f"{dtype!r}")
    if name == "float16":
        native = getattr(backend.xp, "float16", None)
        if native is None:
            raise TypeError(f"{where}: backend {backend.name!r} has no float16; use float32")
        return native
    return backend.dtype(_dt.as_dtype(name))


def _check_size(name, value, expected, low):
    """An int parameter of the constructor: TypeError for another type, ValueError below low."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"KeyedVectors: {name} must be {expected}, got "
                        f"{type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"KeyedVectors: {name} must be {expected}, got {value!r}")


class KeyedVectors(SimilarityQueries):
    """A mapping from keys (usually words) to vectors of one size, as gensim 4's KeyedVectors.

    Parameters
    ----------
    vector_size : int
        Length of every vector.
    count : int, default=0
        Rows to preallocate (zeros, with keys None until `add_vectors` or the model fills them).
    dtype : str, xpnet dtype or NumPy dtype, default="float32"
        float32, float64, or float16 (NumPy, torch and CuPy backends).
    backend : str or Backend, optional
        Where the vectors live; default the active backend.

    Raises
    ------
    TypeError
        If ``vector_size`` or ``count`` is not an int, or ``dtype`` not a float dtype.
    ValueError
        If ``vector_size`` < 1 or ``count`` < 0.

    Attributes
    ----------
    vectors : array of shape (len(self), vector_size)
        A raw array of the backend; row ``i`` belongs to ``index_to_key[i]``. Assigning a new
        array drops the cached norms; after changing it in place call ``fill_norms(force=True)``.
    index_to_key : list of str
    key_to_index : dict of str to int
    vector_size : int
    backend : Backend
    expandos : dict of str to list
        Per-key attributes (gensim stores ``count`` and ``sample_int``), one list entry per row;
        use `get_vecattr` and `set_vecattr`.
    vectors_lockf : array of shape (len(self),) or None
        Lock factors that `Word2Vec` training multiplies each word's update by (gensim's
        experimental feature): float32 ones for a model's vectors, 0.0 freezes a row. None for
        vectors made otherwise; assigning converts to a float32 array of the backend (a
        length-1 array applies to every row, as gensim's default).

    Examples
    --------
    >>> import xpnet
    >>> from xpnet.word2vec import KeyedVectors
    >>> kv = KeyedVectors(2)
    >>> kv.add_vectors(["king", "queen", "apple"], [[1.0, 0.1], [0.9, 0.2], [0.0, 1.0]])
    >>> kv.most_similar("king", topn=1)[0][0]
    'queen'
    """

    def __init__(self, vector_size, count=0, dtype="float32", *, backend=None):
        _check_size("vector_size", vector_size, "a positive int", 1)
        _check_size("count", count, "a non-negative int", 0)
        self.backend = _backends.active() if backend is None else _backends.load(backend)
        self.vector_size = int(vector_size)
        self.index_to_key = [None] * int(count)
        self.key_to_index = {}
        self.next_index = 0
        self.expandos = {}
        self._norms = None
        self._lockf = None
        self._vectors = self.backend.xp.zeros((int(count), self.vector_size),
                                              dtype=vector_dtype(self.backend, dtype),
                                              device=self.backend.device)

    def __str__(self):
        return f"{type(self).__name__}<vector_size={self.vector_size}, {len(self)} keys>"

    __repr__ = __str__

    # -- the vectors -----------------------------------------------------------------------------

    @property
    def vectors(self):
        return self._vectors

    @vectors.setter
    def vectors(self, value):
        value = self._to_backend(value, "vectors")
        if len(value.shape) != 2 or value.shape[1] != self.vector_size:
            raise ValueError(f"KeyedVectors.vectors: expected an array of shape "
                             f"(n, {self.vector_size}), got {tuple(value.shape)}")
        self._vectors = value
        self._norms = None

    @property
    def vectors_lockf(self):
        return self._lockf

    @vectors_lockf.setter
    def vectors_lockf(self, value):
        if value is None:
            self._lockf = None
            return
        xp = self.backend.xp
        if isinstance(value, Tensor):
            value = value.array
        source = _backends.backend_of_array(value)
        if source is None:
            value = xp.asarray(value, dtype=xp.float32, device=self.backend.device)
        elif source is not self.backend:
            value = self.backend.asarray(source.to_numpy(value))
        if value.dtype != xp.float32:
            value = xp.astype(value, xp.float32)
        if len(value.shape) != 1:
            raise ValueError(f"KeyedVectors.vectors_lockf: expected a 1-D array (one factor per "
                             f"key, or one for all), got shape {tuple(value.shape)}")
        self._lockf = value

    @property
    def norms(self):
        """The L2 norm of every row, computed on first use after the vectors change."""
        self.fill_norms()
        return self._norms

    @norms.setter
    def norms(self, value):
        if value is not None:
            raise ValueError("KeyedVectors.norms: only None (forget the cached norms) can be "
                             "assigned; they are computed from the vectors")
        self._norms = None

    def fill_norms(self, force=False):
        """Compute the per-row L2 norms unless they are cached (or ``force``)."""
        if self._norms is None or force:
            xp = self.backend.xp
            self._norms = xp.linalg.vector_norm(self._vectors, axis=1)
            # What queries divide by: a zero row would divide 0 by 0, where gensim gets NaN
            # (and a warning); dividing by 1 instead makes it similar to nothing.
            self._divisors = xp.where(self._norms > 0, self._norms, xp.ones_like(self._norms))

    def _safe_norms(self):
        self.fill_norms()
        return self._divisors

    def get_normed_vectors(self):
        """All vectors scaled to unit L2 length (zero rows stay zero), as an array of shape
        (len(self), vector_size)."""
        return self._vectors / self._safe_norms()[:, None]

    def _to_backend(self, value, what):
        """``value`` (array of any backend, Tensor or nested list) as an array of our backend."""
        if isinstance(value, Tensor):
            value = value.array
        source = _backends.backend_of_array(value)
        if source is None:
            xp = self.backend.xp
            try:
                return xp.asarray(value, dtype=self._vectors.dtype, device=self.backend.device)
            except (TypeError, ValueError) as e:
                raise TypeError(f"KeyedVectors: {what} must be an array or a list of numbers, "
                                f"got {type(value).__name__} ({e})") from None
        if source is not self.backend:
            value = self.backend.asarray(source.to_numpy(value))
        return value

    def _row_dtype_array(self, value, what):
        """``value`` on our backend with the vectors' dtype."""
        arr = self._to_backend(value, what)
        if arr.dtype != self._vectors.dtype:
            arr = self.backend.xp.astype(arr, self._vectors.dtype)
        return arr

    def _host_list(self, arr):
        """A small backend array as Python numbers (only for results)."""
        return self.backend.to_numpy(arr).tolist()

    # -- keys ------------------------------------------------------------------------------------

    def __len__(self):
        return len(self.index_to_key)

    def get_index(self, key, default=None):
        """Row of ``key`` (an int already within range counts as its own row, as in gensim).

        Raises
        ------
        KeyError
            ``get_index: Key 'xyz' not present`` when ``key`` is not in the vocabulary and no
            ``default`` is given.
        """
        index = self.key_to_index.get(key, -1)
        if index >= 0:
            return index
        return self._absent(key, default, "get_index")

    def _index(self, key, op):
        """`get_index` for the public call ``op``: its KeyError starts with ``op``. Every query
        looks keys up here, passing its own name, so the message names the call the user made
        while keeping gensim's text (``Key 'xyz' not present``) that code written for gensim
        matches."""
        index = self.key_to_index.get(key, -1)
        if index >= 0:
            return index
        return self._absent(key, None, op)

    def _absent(self, key, default, op, suffix=""):
        """The row of a key that is not a key: an int within range is its own row; otherwise
        ``default``, or the KeyError (built only here, off the path of present keys)."""
        rows = len(self.index_to_key)
        is_int = isinstance(key, numbers.Integral) and not isinstance(key, bool)
        if is_int and 0 <= key < rows:
            return int(key)
        if default is not None:
            return default
        if is_int:
            suffix += f" (an int key is a row index; there are {rows} rows)"
        raise KeyError(f"{op}: Key '{key}' not present{suffix}")

    def has_index_for(self, key) -> bool:
        return self.get_index(key, -1) >= 0

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def get_vector(self, key, norm=False):
        """The row of ``key`` (1-D, length vector_size), unit-length when ``norm``.

        Raises
        ------
        KeyError
            ``get_vector: Key 'xyz' not present`` when ``key`` is not in the vocabulary.
        """
        return self._row(self._index(key, "get_vector"), norm)

    def _row(self, index, norm=False):
        row = self._vectors[index, :]
        return row / self._safe_norms()[index] if norm else row

    def __getitem__(self, key_or_keys):
        """``kv['word']`` is a 1-D row; ``kv[['a', 'b']]`` a 2-D array with one row per key.

        Raises
        ------
        KeyError
            ``KeyedVectors: Key 'xyz' not present`` for a key not in the vocabulary.
        """
        return self._rows(key_or_keys, "KeyedVectors")

    def _rows(self, key_or_keys, op):
        """``self[key_or_keys]`` for the public call ``op`` (named by a missing key's error)."""
        if _is_key(key_or_keys):
            return self._row(self._index(key_or_keys, op))
        xp = self.backend.xp
        indices = xp.asarray([self._index(key, op) for key in key_or_keys], dtype=xp.int64,
                             device=self.backend.device)
        return xp.take(self._vectors, indices, axis=0)

    # -- per-key attributes ----------------------------------------------------------------------

    def allocate_vecattrs(self, attrs=None, types=None):
        """Make every attribute list as long as ``index_to_key`` (new entries 0).

        ``types`` is accepted for gensim's signature; lists hold any Python value.
        """
        attrs = list(self.expandos) if attrs is None else list(attrs)
        size = len(self.index_to_key)
        for attr in attrs:
            column = self.expandos.setdefault(attr, [])
            if len(column) < size:
                column.extend([0] * (size - len(column)))
            elif len(column) > size:
                del column[size:]

    def set_vecattr(self, key, attr, val):
        """Store ``val`` as attribute ``attr`` of ``key`` (e.g. ``'count'``)."""
        index = self._index(key, "set_vecattr")
        if attr not in self.expandos or len(self.expandos[attr]) != len(self.index_to_key):
            self.allocate_vecattrs([attr])
        self.expandos[attr][index] = val

    def get_vecattr(self, key, attr):
        """Attribute ``attr`` of ``key``; KeyError naming the attribute if it was never set."""
        index = self._index(key, "get_vecattr")
        try:
            column = self.expandos[attr]
        except KeyError:
            raise KeyError(f"get_vecattr: attribute {attr!r} is not set on these vectors; known: "
                           f"{sorted(self.expandos)}") from None
        return column[index]

    # -- adding vectors --------------------------------------------------------------------------

    def add_vectors(self, keys, weights, extras=None, replace=False):
        """Append ``keys`` with their vectors; keys already present keep their vector unless
        ``replace``.

        Parameters
        ----------
        keys : str or list of str
        weights : array or list of shape (len(keys), vector_size), or (vector_size,) for one key
        extras : dict of str to list, optional
            Per-key attributes, one value per key.
        replace : bool, default=False
        """
        xp = self.backend.xp
        if _is_key(keys):
            keys = [keys]
            weights = self._row_dtype_array(weights, "weights")
            weights = xp.reshape(weights, (1, -1))
        else:
            keys = list(keys)
            weights = self._row_dtype_array(weights, "weights")
        if len(weights.shape) != 2 or weights.shape != (len(keys), self.vector_size):
            raise ValueError(f"add_vectors: expected weights of shape ({len(keys)}, "
                             f"{self.vector_size}) for {len(keys)} keys, got "
                             f"{tuple(weights.shape)}")
        extras = {} if extras is None else {attr: list(v) for attr, v in extras.items()}
        for attr, values in extras.items():
            if len(values) != len(keys):
                raise ValueError(f"add_vectors: extras[{attr!r}] has {len(values)} values for "
                                 f"{len(keys)} keys")
        self._drop_unfilled_tail()
        new_rows, replaced = [], []
        for row, key in enumerate(keys):
            if key in self.key_to_index:
                replaced.append((row, self.key_to_index[key]))
            else:
                self.key_to_index[key] = len(self.index_to_key)
                self.index_to_key.append(key)
                new_rows.append(row)
        self.allocate_vecattrs()
        self.allocate_vecattrs(extras)
        for attr, values in extras.items():
            column = self.expandos[attr]
            base = len(self.index_to_key) - len(new_rows)
            for offset, row in enumerate(new_rows):
                column[base + offset] = values[row]
            if replace:
                for row, index in replaced:
                    column[index] = values[row]
        device = self.backend.device
        parts = [self._vectors]
        if new_rows:
            take = xp.asarray(new_rows, dtype=xp.int64, device=device)
            parts.append(xp.take(weights, take, axis=0))
        vectors = xp.concat(parts, axis=0) if len(parts) > 1 else self._vectors
        if replace:
            # One row at a time: the standard allows assigning through an int index, not an
            # index array.
            for row, index in replaced:
                vectors[index, :] = weights[row, :]
        self.vectors = vectors
        self.next_index = len(self.index_to_key)

    def _drop_unfilled_tail(self):
        # Rows preallocated by `count` but never given a key are dropped before appending, so
        # keys and rows stay aligned.
        filled = self.next_index if None in self.index_to_key else len(self.index_to_key)
        if filled < len(self.index_to_key):
            del self.index_to_key[filled:]
            self._vectors = self._vectors[:filled, :]
            self._norms = None
            self.allocate_vecattrs()

    def add_vector(self, key, vector) -> int:
        """Add one key (into a preallocated row when one is free); returns its row."""
        target = self.next_index
        if target < len(self.index_to_key) and self.index_to_key[target] is None:
            vector = self._row_dtype_array(vector, "vector")
            if tuple(vector.shape) != (self.vector_size,):
                raise ValueError(f"add_vector: expected a vector of length {self.vector_size}, "
                                 f"got shape {tuple(vector.shape)}")
            self._vectors[target, :] = vector
            self._norms = None
            self.index_to_key[target] = key
            self.key_to_index[key] = target
            self.next_index += 1
            return target
        self.add_vectors([key], self.backend.xp.reshape(
            self._row_dtype_array(vector, "vector"), (1, -1)))
        return len(self.index_to_key) - 1

    def __setitem__(self, keys, weights):
        """``kv['word'] = vector`` adds or replaces (gensim's add_vectors with replace=True)."""
        self.add_vectors(keys, weights, replace=True)

    def sort_by_descending_frequency(self):
        """Reorder rows by descending ``count`` attribute (stable)."""
        if "count" not in self.expandos:
            raise ValueError("sort_by_descending_frequency: the vectors have no 'count' attribute")
        counts = self.expandos["count"]
        order = sorted(range(len(self)), key=lambda i: -counts[i])
        xp = self.backend.xp
        take = xp.asarray(order, dtype=xp.int64, device=self.backend.device)
        self.vectors = xp.take(self._vectors, take, axis=0)
        self.index_to_key = [self.index_to_key[i] for i in order]
        self.key_to_index = {key: i for i, key in enumerate(self.index_to_key)}
        for attr, column in self.expandos.items():
            self.expandos[attr] = [column[i] for i in order]

    def resize_vectors(self, seed=0):
        """Make the rows match ``index_to_key``: existing rows stay, missing ones are random as
        gensim's ``prep_vectors`` makes them, and extra ones are dropped.

        A new row ``i`` is row ``i`` of ``(u * 2 - 1) / vector_size`` for ``u`` uniform in
        [0, 1) drawn in float32 from ``numpy.random.default_rng(seed)`` over the whole new
        shape, so it depends only on the seed, its index and the sizes (gensim's rule, the same
        numbers). Per-key attributes grow with the keys, and ``vectors_lockf``, when it holds
        one factor per row, grows with ones.
        """
        xp, device = self.backend.xp, self.backend.device
        target, before = len(self.index_to_key), self._vectors.shape[0]
        if target < before:
            vectors = self._vectors[:target, :]
        elif target > before:
            size = self.vector_size
            draws = Generator(seed).random(self.backend, (target, size), "float32")
            fresh = (draws * 2.0 - 1.0) / size
            fresh = fresh[before:, :]
            if fresh.dtype != self._vectors.dtype:
                fresh = xp.astype(fresh, self._vectors.dtype)
            vectors = xp.concat([self._vectors, fresh], axis=0) if before else fresh
        else:
            vectors = self._vectors
        self.vectors = vectors
        self.next_index = min(self.next_index, target) if None in self.index_to_key else target
        self.allocate_vecattrs()
        lockf = self._lockf
        if lockf is not None and lockf.shape[0] == before and before != target:
            if target < before:
                self._lockf = lockf[:target]
            else:
                ones = xp.ones((target - before,), dtype=xp.float32, device=device)
                self._lockf = xp.concat([lockf, ones]) if before else ones

    def unit_normalize_all(self):
        """Scale every vector to unit length, in the vectors themselves (training cannot
        sensibly continue afterwards). Zero vectors stay zero (gensim makes them NaN)."""
        self.vectors = self.get_normed_vectors()
        self.fill_norms(force=True)

    def vectors_for_all(self, keys, allow_inference=True, copy_vecattrs=False):
        """A new `KeyedVectors` with the vectors of those ``keys`` that are present, deduplicated,
        in their first order.

        Parameters
        ----------
        keys : iterable of str (or int indices)
        allow_inference : bool, default=True
            gensim's FastText infers unknown words; here, False looks keys up by name only
            (True also accepts row indices, as ``key in kv`` does).
        copy_vecattrs : bool, default=False
            Copy the per-key attributes; otherwise ``count`` is made up in descending order,
            as `load_word2vec_format` does.

        Returns
        -------
        KeyedVectors
            On the same backend, with the same dtype.
        """
        chosen, seen = [], set()
        for key in keys:
            if key in seen:
                continue
            seen.add(key)
            if (key in self) if allow_inference else (key in self.key_to_index):
                chosen.append(key)
        xp = self.backend.xp
        rows = xp.asarray([self.get_index(key) for key in chosen], dtype=xp.int64,
                          device=self.backend.device)
        kv = KeyedVectors(self.vector_size, 0, dtype=self._vectors.dtype, backend=self.backend)
        kv.index_to_key = list(chosen)
        kv.key_to_index = {key: i for i, key in enumerate(chosen)}
        kv.next_index = len(chosen)
        kv.vectors = xp.take(self._vectors, rows, axis=0)
        kv.expandos["count"] = [len(chosen) - i for i in range(len(chosen))]
        if copy_vecattrs:
            for attr, column in self.expandos.items():
                kv.expandos[attr] = [column[self.get_index(key)] for key in chosen]
        return kv

    # -- evaluation and files (their own modules) ------------------------------------------------

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True,
                                dummy4unknown=False, similarity_function="most_similar"):
        """Accuracy on an analogy file in the questions-words format; see
        `xpnet.word2vec.evaluation.evaluate_word_analogies`."""
        from .evaluation import evaluate_word_analogies
        return evaluate_word_analogies(self, analogies, restrict_vocab=restrict_vocab,
                                       case_insensitive=case_insensitive,
                                       dummy4unknown=dummy4unknown,
                                       similarity_function=similarity_function)

    def evaluate_word_pairs(self, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                            case_insensitive=True, dummy4unknown=False):
        """Pearson and Spearman correlation with human similarity judgements; see
        `xpnet.word2vec.evaluation.evaluate_word_pairs`."""
        from .evaluation import evaluate_word_pairs
        return evaluate_word_pairs(self, pairs, delimiter=delimiter, encoding=encoding,
                                   restrict_vocab=restrict_vocab,
                                   case_insensitive=case_insensitive, dummy4unknown=dummy4unknown)

    def save_word2vec_format(self, fname, fvocab=None, binary=False, total_vec=None,
                             write_header=True, prefix="", append=False, sort_attr="count"):
        """Write the C tool's text or binary format; see `xpnet.word2vec.formats`."""
        from .formats import save_word2vec_format
        save_word2vec_format(self, fname, fvocab=fvocab, binary=binary, total_vec=total_vec,
                             write_header=write_header, prefix=prefix, append=append,
                             sort_attr=sort_attr)

    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary=False, encoding="utf8",
                             unicode_errors="strict", limit=None, datatype="float32",
                             no_header=False, backend=None):
        """Read the C tool's text or binary format; see `xpnet.word2vec.formats`."""
        from .formats import load_word2vec_format
        return load_word2vec_format(cls, fname, fvocab=fvocab, binary=binary, encoding=encoding,
                                    unicode_errors=unicode_errors, limit=limit, datatype=datatype,
                                    no_header=no_header, backend=backend)

    def intersect_word2vec_format(self, fname, lockf=0.0, binary=False, encoding="utf8",
                                  unicode_errors="strict"):
        """Take the vectors of a C-format file for the keys present here (no key is added) and
        set their ``vectors_lockf`` to ``lockf`` (0.0: training leaves them as they are); see
        `xpnet.word2vec.formats.intersect_word2vec_format`."""
        from .formats import intersect_word2vec_format
        intersect_word2vec_format(self, fname, lockf=lockf, binary=binary, encoding=encoding,
                                  unicode_errors=unicode_errors)

    def save(self, path, *args, **kwargs):
        """Write keys, vectors and attributes to a safetensors file (no pickle), atomically;
        see `xpnet.word2vec.formats.save_native`. gensim's extra arguments (``separately``,
        ``sep_limit``...) are accepted: every array goes into the one file."""
        from .formats import save_native
        save_native(self, path)

    @classmethod
    def load(cls, path, mmap=None, backend=None):
        """Read what `save` wrote, onto ``backend`` (default the active one).

        Parameters
        ----------
        path : str or os.PathLike
        mmap : {None, 'r', 'c'}
            Memory-map the vectors: read-only (``'r'``) or copy-on-write (``'c'``) NumPy arrays
            over the file, so nothing is read until used and processes share the pages
            (`xpnet.word2vec.storage`).
        backend : str, optional
            With ``mmap``, only NumPy.

        Raises
        ------
        FileNotFoundError, IsADirectoryError, PermissionError
            If ``path`` does not open for reading (the error keeps the path).
        xpnet.word2vec.errors.WrongFileError
            If the file holds something else, e.g. a whole Word2Vec model (a ValueError and
            gensim's AttributeError).
        ValueError
            If the file is inconsistent.
        """
        from .formats import load_native
        return load_native(cls, path, backend=backend, mmap=mmap)


# gensim's private reader, which gensim's own tests call with binary_chunk_size.
from .formats import _load_word2vec_format  # noqa: E402,F401
