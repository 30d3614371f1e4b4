"""Similarity queries of `KeyedVectors` (gensim 4's names): cosine similarities as matrix
products on the vectors' backend, top-k selection there, and only the results as Python values.
"""

from __future__ import annotations

import logging
import math
import numbers

from xpnet import backend as _backends
from xpnet.autograd.tensor import Tensor

from .errors import EmptyInputError

__all__ = ["SimilarityQueries"]

logger = logging.getLogger(__name__)


def _is_key(item) -> bool:
    # numbers.Integral also covers NumPy's integer scalars, as gensim's _KEY_TYPES does.
    return isinstance(item, str) or (isinstance(item, numbers.Integral)
                                     and not isinstance(item, bool))


def _is_array(item) -> bool:
    return isinstance(item, Tensor) or _backends.backend_of_array(item) is not None


def _check_count(op, name, value, allow_none=True):
    """``topn`` or ``restrict_vocab`` of the public call ``op``: an int >= 0, or None where it
    means "all". gensim returns [] for a negative topn and slices with a float one (TypeError);
    here a negative count is a ValueError and any other type (bool too) a TypeError."""
    if value is None and allow_none:
        return None
    expected = f"an int >= 0{' or None' if allow_none else ''}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be {expected}, got {type(value).__name__} "
                        f"{value!r:.80}")
    if value < 0:
        raise ValueError(f"{op}: {name} must be {expected}, got {value!r}")
    return int(value)


def _ensure_list(value, op):
    """gensim's convention: one key or vector, a 2-D array of vectors, or a list of items."""
    if value is None:
        return []
    if _is_key(value):
        return [value]
    if _is_array(value):
        if len(value.shape) == 1:
            return [value]
        if len(value.shape) == 2:
            return [value[i, ...] for i in range(value.shape[0])]
        raise ValueError(f"{op}: expected a vector or a 2-D array of vectors, got an array of "
                         f"shape {tuple(value.shape)}")
    return list(value)


class SimilarityQueries:
    """Mixin of `KeyedVectors`: everything that compares vectors. It uses the class's
    ``vectors``, ``backend``, norms, key lookups and ``_host_list``."""

    def _unit(self, vector):
        xp = self.backend.xp
        norm = xp.linalg.vector_norm(vector)
        return vector / xp.where(norm > 0, norm, xp.ones_like(norm))

    def _stack_terms(self, items, pre_normalize, ignore_missing, what):
        """Rows for keys (normed when ``pre_normalize``) or given vectors, with their weights;
        returns (rows, weights, indices of the keys found). ``what`` is the public call,
        named by the errors."""
        rows, weights, found = [], [], []
        for item, weight in items:
            if _is_array(item):
                vector = self._row_dtype_array(item, what)
                if vector.shape != (self.vector_size,):
                    raise ValueError(f"{what}: expected vectors of length {self.vector_size}, got "
                                     f"shape {tuple(vector.shape)}")
                rows.append(vector)
            else:
                index = self.get_index(item, -1)
                if index >= 0:
                    found.append(index)
                    rows.append(self._row(index, norm=pre_normalize))
                elif ignore_missing:
                    continue
                else:  # gensim's text for most_similar and get_mean_vector
                    self._absent(item, None, what, " in vocabulary")
            weights.append(float(weight))
        return rows, weights, found

    def get_mean_vector(self, keys, weights=None, pre_normalize=True, post_normalize=False,
                        ignore_missing=True):
        """Weighted mean of the vectors of ``keys`` (keys, indices or vectors), divided by the
        sum of absolute weights, as gensim's.

        Raises
        ------
        ValueError
            For no keys, or weights of another length.
        KeyError
            For a missing key when ``ignore_missing`` is False.
        """
        return self._mean_vector("get_mean_vector", keys, weights, pre_normalize, post_normalize,
                                 ignore_missing)

    def _mean_vector(self, op, keys, weights, pre_normalize, post_normalize, ignore_missing):
        keys = _ensure_list(keys, op)
        if not keys:
            raise ValueError(f"{op}: cannot compute mean with no input")
        if weights is None:
            weights = [1.0] * len(keys)
        elif _is_array(weights):
            weights = self._host_list(self._to_backend(weights, "weights"))
        else:
            weights = [float(w) for w in weights]
        if len(weights) != len(keys):
            raise ValueError(f"{op}: keys and weights must have the same length, got "
                             f"{len(keys)} keys and {len(weights)} weights")
        rows, used, _ = self._stack_terms(zip(keys, weights), pre_normalize, ignore_missing, op)
        return self._weighted_mean(rows, used, post_normalize)

    def _weighted_mean(self, rows, weights, post_normalize):
        xp = self.backend.xp
        dtype, device = self._vectors.dtype, self.backend.device
        if not rows:
            mean = xp.zeros((self.vector_size,), dtype=dtype, device=device)
        else:
            w = xp.asarray(weights, dtype=dtype, device=device)
            mean = xp.sum(w[:, None] * xp.stack(rows), axis=0)
            total = sum(abs(x) for x in weights)
            if total > 0:
                mean = mean / total
        return self._unit(mean) if post_normalize else mean

    def _weighted_items(self, positive, negative, what):
        items = []
        for default, group in ((1.0, _ensure_list(positive, what)),
                               (-1.0, _ensure_list(negative, what))):
            for item in group:
                if _is_key(item) or _is_array(item):
                    items.append((item, default))
                elif isinstance(item, (tuple, list)) and len(item) == 2:
                    items.append((item[0], item[1]))
                else:
                    raise TypeError(f"{what}: expected keys, vectors or (key, weight) pairs, got "
                                    f"{item!r:.80}")
        return items

    def _top_per_query(self, scores, count):
        """Indices and values of the ``count`` largest entries of each row of ``scores``
        (Q queries, N keys), best first, ties in key order; as two Q-long lists of lists."""
        xp, device = self.backend.xp, self.backend.device
        queries, size = scores.shape
        count = min(count, size)
        # The standard has no top-k or partition. Cut each row into about sqrt(N) blocks:
        # the best `count` entries lie in the `count` blocks with the largest maxima (ties go
        # to the earlier block, as they go to the earlier key), so one pass for the block
        # maxima and two small sorts replace a sort of all N.
        width = max(1, math.isqrt(size))
        blocks = -(-size // width)
        if count * width >= size:
            order = xp.argsort(scores, axis=1, descending=True, stable=True)[:, :count]
            return self._host_list(order), self._host_list(
                xp.take_along_axis(scores, order, axis=1))
        if blocks * width > size:
            padding = xp.full((queries, blocks * width - size), -math.inf, dtype=scores.dtype,
                              device=device)
            scores = xp.concat([scores, padding], axis=1)
        best_blocks = xp.argsort(xp.max(xp.reshape(scores, (queries, blocks, width)), axis=2),
                                 axis=1, descending=True, stable=True)[:, :count]
        # Candidates in key order, so that the stable sort below breaks ties by key.
        offsets = xp.arange(width, dtype=best_blocks.dtype, device=device)
        candidates = xp.reshape(xp.sort(best_blocks, axis=1)[:, :, None] * width + offsets,
                                (queries, count * width))
        candidate_scores = xp.take_along_axis(scores, candidates, axis=1)
        order = xp.argsort(candidate_scores, axis=1, descending=True, stable=True)[:, :count]
        return (self._host_list(xp.take_along_axis(candidates, order, axis=1)),
                self._host_list(xp.take_along_axis(candidate_scores, order, axis=1)))

    def _top(self, scores, count, offset=0, exclude=()):
        """The ``count`` best (key, score) pairs of a 1-D score array, best first, skipping rows
        in ``exclude``; ties keep vocabulary order."""
        (rows,), (values,) = self._top_per_query(scores[None, :], count + len(exclude))
        result = [(self.index_to_key[row + offset], float(value))
                  for row, value in zip(rows, values) if row + offset not in exclude]
        return result[:count]

    def most_similar(self, positive=None, negative=None, topn=10, clip_start=0, clip_end=None,
                     restrict_vocab=None, indexer=None):
        """The ``topn`` keys most cosine-similar to the weighted mean of ``positive`` minus
        ``negative`` (the C tool's ``word-analogy`` and ``distance``).

        Parameters
        ----------
        positive, negative : key, vector, or list
            Keys, vectors, or ``(key or vector, weight)`` pairs; default weights 1.0 and -1.0.
            Keys are unit-normed before averaging; given vectors
            are used as they are.
        topn : int or None, default=10
            None returns the similarity to every searched row as a backend array.
        clip_start, clip_end : int
            Search only rows [clip_start, clip_end).
        restrict_vocab : int, optional
            Search only the first ``restrict_vocab`` rows (overrides the clip bounds).
        indexer : object with ``most_similar(vector, topn)``, optional
            An approximate-neighbour index to ask instead.

        Returns
        -------
        list of (str, float)
            Best first; the query keys themselves are left out.

        Raises
        ------
        KeyError
            For a key not in the vocabulary (``most_similar: Key 'xyz' not present in
            vocabulary``).
        TypeError
            If ``topn`` or ``restrict_vocab`` is not an int (or None).
        ValueError
            With neither positive nor negative input, or a negative ``topn`` or
            ``restrict_vocab`` (gensim returns [] for a negative topn).
        """
        return self._most_similar("most_similar", positive, negative, topn, clip_start, clip_end,
                                  restrict_vocab, indexer)

    def _most_similar(self, op, positive=None, negative=None, topn=10, clip_start=0,
                      clip_end=None, restrict_vocab=None, indexer=None):
        """`most_similar` for the public call ``op`` (named by its errors)."""
        topn = _check_count(op, "topn", topn)
        restrict_vocab = _check_count(op, "restrict_vocab", restrict_vocab)
        if topn == 0:
            return []
        items = self._weighted_items(positive, negative, op)
        if not items:
            raise ValueError(f"{op}: cannot compute similarity with no input; pass at "
                             f"least one key or vector in positive or negative")
        rows, weights, found = self._stack_terms(items, True, False, op)
        mean = self._weighted_mean(rows, weights, post_normalize=True)
        if indexer is not None and topn is not None:
            return indexer.most_similar(mean, topn)
        size = self._vectors.shape[0]
        clip_end = clip_end or size
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        # Array API slices must stay within the axis (NumPy would clip them silently).
        clip_end = max(0, min(int(clip_end), size))
        clip_start = max(0, min(int(clip_start), clip_end))
        scores = (self._vectors[clip_start:clip_end, :] @ mean) \
            / self._safe_norms()[clip_start:clip_end]
        if topn is None:
            return scores
        return self._top(scores, topn, offset=clip_start, exclude=set(found))

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        """`most_similar` of one key (errors name ``similar_by_key``)."""
        return self._most_similar("similar_by_key", positive=[key], topn=topn,
                                  restrict_vocab=restrict_vocab)

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        """`most_similar` of one word (errors name ``similar_by_word``)."""
        return self._most_similar("similar_by_word", positive=[word], topn=topn,
                                  restrict_vocab=restrict_vocab)

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """`most_similar` of one vector (used as given, then unit-normed)."""
        return self._most_similar("similar_by_vector", positive=[vector], topn=topn,
                                  restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """Nearest keys by Levy and Goldberg's multiplicative objective (3CosMul, 2014)::

            score(w) = prod_p s(w, p) / (prod_n s(w, n) + 1e-6),  s = (1 + cos) / 2

        Keys are unit-normed, vectors used as given. Unlike gensim 4.4, ``restrict_vocab``
        is honoured.

        Raises
        ------
        ValueError
            Without positive input, or a negative ``topn`` or ``restrict_vocab``.
        TypeError
            If ``topn`` or ``restrict_vocab`` is not an int (or None).
        KeyError
            For a key not in the vocabulary (``most_similar_cosmul: Key 'xyz' not present``).
        """
        op = "most_similar_cosmul"
        topn = _check_count(op, "topn", topn)
        restrict_vocab = _check_count(op, "restrict_vocab", restrict_vocab)
        if topn == 0:
            return []
        positive, negative = _ensure_list(positive, op), _ensure_list(negative, op)
        if not positive:
            raise ValueError("most_similar_cosmul: cannot compute similarity with no input; "
                             "pass at least one positive key or vector")
        found = set()

        def terms(group):
            rows = []
            for item in group:
                if _is_array(item):
                    vector = self._row_dtype_array(item, "most_similar_cosmul")
                    if vector.shape != (self.vector_size,):
                        raise ValueError(f"most_similar_cosmul: expected vectors of length "
                                         f"{self.vector_size}, got shape {tuple(vector.shape)}")
                    rows.append(vector)
                else:
                    index = self._index(item, op)
                    found.add(index)
                    rows.append(self._row(index, norm=True))
            return rows

        pos_rows, neg_rows = terms(positive), terms(negative)
        xp = self.backend.xp
        end = min(restrict_vocab or self._vectors.shape[0], self._vectors.shape[0])
        vectors, norms = self._vectors[:end, :], self._safe_norms()[:end]

        def shifted_cosines(rows):
            # [0, 1] rather than [-1, 1], per footnote 7 of the paper, so products stay ordered.
            return (1 + (vectors @ xp.stack(rows, axis=1)) / norms[:, None]) / 2

        scores = xp.prod(shifted_cosines(pos_rows), axis=1)
        denominator = xp.prod(shifted_cosines(neg_rows), axis=1) if neg_rows else 1.0
        scores = scores / (denominator + 0.000001)
        if topn is None:
            return scores
        return self._top(scores, topn, exclude=found)

    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two keys.

        Raises
        ------
        KeyError
            For a key not in the vocabulary (``similarity: Key 'xyz' not present``).
        """
        return self._similarity("similarity", w1, w2)

    def _similarity(self, op, w1, w2):
        xp = self.backend.xp
        return float(xp.sum(self._unit(self._rows(w1, op)) * self._unit(self._rows(w2, op))))

    def distance(self, w1, w2) -> float:
        """Cosine distance ``1 - similarity(w1, w2)``; exactly 0.0 for a key and itself (float32
        rounding would otherwise leave a few ulps, as gensim's test expects none)."""
        op = "distance"
        if _is_key(w1) and _is_key(w2) and self._index(w1, op) == self._index(w2, op):
            return 0.0
        return 1 - self._similarity(op, w1, w2)

    def relative_cosine_similarity(self, wa, wb, topn=10) -> float:
        """``similarity(wa, wb)`` divided by the sum of the similarities of ``wa``'s ``topn``
        nearest keys (Leeuwenberg et al., "A Minimally Supervised Approach for Synonym
        Extraction with Word Embeddings", 2016, eq. 1); above 0.10 for topn=10, ``wb`` is
        closer to ``wa`` than an arbitrary word.

        Raises
        ------
        ValueError
            If ``wa`` has no neighbour (``topn`` < 1 or a one-key vocabulary).
        TypeError
            If ``topn`` is not an int.
        KeyError
            For a key not in the vocabulary.
        """
        op = "relative_cosine_similarity"
        neighbours = self._most_similar(op, positive=[wa], topn=_check_count(op, "topn", topn,
                                                                            allow_none=False))
        if not neighbours:
            raise ValueError(f"{op}: {wa!r} has no similar words (topn={topn!r}, {len(self)} "
                             f"keys); cannot calculate relative cosine similarity without any "
                             f"similar words")
        return self._similarity(op, wa, wb) / sum(score for _, score in neighbours)

    def wmdistance(self, document1, document2, norm=True) -> float:
        """Word Mover's Distance between two documents (Kusner et al., "From Word Embeddings To
        Document Distances", 2015), solved as gensim solves it, by POT's exact ``emd2``.

        Each document is its normalised bag of known words; moving one unit of a word to
        another costs the Euclidean distance of their vectors (unit-normed when ``norm``).

        Parameters
        ----------
        document1, document2 : list of str
            Out-of-vocabulary words are dropped (logged).
        norm : bool, default=True

        Returns
        -------
        float
            0.0 when both documents hold the same single word; ``inf`` (with a logged warning)
            when a document has no known word or all distances are zero, as gensim.

        Raises
        ------
        ImportError
            Without POT: ``pip install 'xpnet[wmd]'`` (or ``pip install POT``).
        """
        from .wmd import wmdistance
        return wmdistance(self, document1, document2, norm=norm)

    def n_similarity(self, ws1, ws2) -> float:
        """Cosine similarity of the (unnormed) mean vectors of two key lists.

        Raises
        ------
        xpnet.word2vec.errors.EmptyInputError
            If a list is empty: a ValueError, and gensim's ZeroDivisionError.
        KeyError
            For a key not in the vocabulary (gensim 4.4 silently skips it).
        """
        op = "n_similarity"
        for name, words in (("ws1", ws1), ("ws2", ws2)):
            if not len(words):
                raise EmptyInputError(f"{op}: at least one of the passed lists is empty: {name} "
                                      f"is {words!r:.40}")
        mean1 = self._mean_vector(op, ws1, None, False, False, False)
        mean2 = self._mean_vector(op, ws2, None, False, False, False)
        return float(self.backend.xp.sum(self._unit(mean1) * self._unit(mean2)))

    @staticmethod
    def cosine_similarities(vector_1, vectors_all):
        """Cosine similarity of ``vector_1`` (D,) with each row of ``vectors_all`` (N, D)."""
        backend = _backends.backend_of_array(vectors_all)
        xp = backend.xp if backend is not None else _backends.active().xp
        norm = xp.linalg.vector_norm(vector_1)
        norms = xp.linalg.vector_norm(vectors_all, axis=1)
        denominator = norm * norms
        return (vectors_all @ vector_1) / xp.where(denominator > 0, denominator,
                                                   xp.ones_like(denominator))

    def distances(self, word_or_vector, other_words=()):
        """Cosine distances from a key or vector to ``other_words`` (default: every key), as a
        backend array."""
        return self._distances("distances", word_or_vector, other_words)

    def _distances(self, op, word_or_vector, other_words=()):
        if _is_key(word_or_vector):
            vector = self._row(self._index(word_or_vector, op))
        else:
            vector = self._row_dtype_array(word_or_vector, op)
        if not other_words:
            others = self._vectors
        else:
            others = self._rows(list(other_words), op)
        return 1 - self.cosine_similarities(vector, others)

    def closer_than(self, key1, key2):
        """Keys closer to ``key1`` than ``key2`` is (``key1`` itself left out)."""
        op, xp = "closer_than", self.backend.xp
        distances = self._distances(op, key1)
        index1, index2 = self._index(key1, op), self._index(key2, op)
        closer = self._host_list(xp.nonzero(distances < distances[index2])[0])
        return [self.index_to_key[i] for i in closer if i != index1]

    def rank(self, key1, key2) -> int:
        """1 + the number of keys closer to ``key1`` than ``key2`` is."""
        op, xp = "rank", self.backend.xp
        distances = self._distances(op, key1)
        index1, index2 = self._index(key1, op), self._index(key2, op)
        closer = distances < distances[index2]
        count = int(xp.sum(xp.astype(closer, xp.int64)))
        return count - int(bool(closer[index1]) and index1 != index2) + 1

    def most_similar_to_given(self, key1, keys_list):
        """The key of ``keys_list`` most similar to ``key1``."""
        similarities = [self._similarity("most_similar_to_given", key1, key)
                        for key in keys_list]
        return keys_list[similarities.index(max(similarities))]

    def rank_by_centrality(self, words, use_norm=True):
        """(similarity, word) pairs ranked by similarity to the mean of ``words``, most central
        first; words not in the vocabulary are ignored with a logged warning.

        Raises
        ------
        ValueError
            If ``words`` is empty or none of them is in the vocabulary.
        """
        return self._rank_by_centrality("rank_by_centrality", words, use_norm)

    def _rank_by_centrality(self, op, words, use_norm):
        words = list(words)
        if not words:
            raise ValueError(f"{op}: words is empty; cannot select a word from an empty list")
        used = [word for word in words if word in self]
        if len(used) != len(words):
            logger.warning("vectors for words %s are not present in the model, ignoring these "
                           "words", set(words) - set(used))
        if not used:
            raise ValueError(f"{op}: none of the words {words[:10]} is in the vocabulary; "
                             f"cannot select a word from an empty list")
        xp = self.backend.xp
        vectors = xp.stack([self.get_vector(word, norm=use_norm) for word in used])
        mean = self._unit(xp.mean(vectors, axis=0))
        similarities = self._host_list(vectors @ mean)
        return sorted(zip(similarities, used), reverse=True)

    def doesnt_match(self, words):
        """The word of ``words`` furthest from their mean.

        Raises
        ------
        ValueError
            If ``words`` is empty or none of them is in the vocabulary (as gensim).
        """
        return self._rank_by_centrality("doesnt_match", words, True)[-1][1]
