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
from xpnet.autograd.tensor import Tensor

from .similarity import SimilarityQueries, _is_key

__all__ = ["KeyedVectors"]

logger = logging.getLogger(__name__)


class KeyedVectors(SimilarityQueries):
    """A mapping from keys (usually words) to vectors of one size, as gensim 4's KeyedVectors.

    Parameters
    ----------
    vector_size : int
        Length of every vector.
    count : int, default=0
        Rows to preallocate (zeros, with keys None until `add_vectors` or the model fills them).
    dtype : str or xpnet dtype, default="float32"
    backend : str or Backend, optional
        Where the vectors live; default the active backend.

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
        if isinstance(vector_size, bool) or not isinstance(vector_size, numbers.Integral) \
                or vector_size < 1:
            raise ValueError(f"KeyedVectors: vector_size must be a positive int, got "
                             f"{vector_size!r}")
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            raise ValueError(f"KeyedVectors: count must be a non-negative int, got {count!r}")
        self.backend = _backends.active() if backend is None else _backends.load(backend)
        self.vector_size = int(vector_size)
        self.index_to_key = [None] * int(count)
        self.key_to_index = {}
        self.next_index = 0
        self.expandos = {}
        self._norms = None
        self._vectors = self.backend.xp.zeros((int(count), self.vector_size),
                                              dtype=self.backend.dtype(dtype),
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
        """Row of ``key`` (an int already within range counts as its own row, as in gensim)."""
        index = self.key_to_index.get(key, -1)
        if index >= 0:
            return index
        if isinstance(key, numbers.Integral) and not isinstance(key, bool) \
                and 0 <= key < len(self.index_to_key):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"Key '{key}' not present")

    def has_index_for(self, key) -> bool:
        return self.get_index(key, -1) >= 0

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def get_vector(self, key, norm=False):
        """The row of ``key`` (1-D, length vector_size), unit-length when ``norm``.

        Raises
        ------
        KeyError
            ``Key 'xyz' not present`` when ``key`` is not in the vocabulary.
        """
        return self._row(self.get_index(key), norm)

    def _row(self, index, norm=False):
        row = self._vectors[index, :]
        return row / self._safe_norms()[index] if norm else row

    def __getitem__(self, key_or_keys):
        """``kv['word']`` is a 1-D row; ``kv[['a', 'b']]`` a 2-D array with one row per key."""
        if _is_key(key_or_keys):
            return self.get_vector(key_or_keys)
        keys = list(key_or_keys)
        xp = self.backend.xp
        indices = xp.asarray([self.get_index(key) for key in keys], dtype=xp.int64,
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
        index = self.get_index(key)
        if attr not in self.expandos or len(self.expandos[attr]) != len(self.index_to_key):
            self.allocate_vecattrs([attr])
        self.expandos[attr][index] = val

    def get_vecattr(self, key, attr):
        """Attribute ``attr`` of ``key``; KeyError naming the attribute if it was never set."""
        index = self.get_index(key)
        try:
            column = self.expandos[attr]
        except KeyError:
            raise KeyError(f"attribute {attr!r} is not set on these vectors; known: "
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

    def save(self, path):
        """Write keys, vectors and attributes to a safetensors file (no pickle), atomically;
        see `xpnet.word2vec.formats.save_native`."""
        from .formats import save_native
        save_native(self, path)

    @classmethod
    def load(cls, path, backend=None):
        """Read what `save` wrote, onto ``backend`` (default the active one).

        Raises
        ------
        ValueError
            If the file is not an xpnet KeyedVectors file or is inconsistent.
        """
        from .formats import load_native
        return load_native(cls, path, backend=backend)
