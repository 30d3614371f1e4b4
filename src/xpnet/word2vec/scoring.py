"""Using a trained model as a language model: `predict_output_word` and `score`, as gensim.

``score`` is the log-probability of a sentence under hierarchical softmax: for every word and
every other word within ``window`` of it (the whole window, no random shrinking), the
log-sigmoid of each turn on the word's Huffman path, ``log sigmoid(sign * h . syn1[node])``,
with ``h`` the other word's vector (skip-gram) or the mean of the window's vectors (CBOW).
gensim reads the log-sigmoid from a 1000-entry table (``LOG_TABLE``) at index
``int((f + 6) * 83)`` and skips ``|f| >= 6``; this module builds the same float32 table and uses
the same index, so the scores agree with gensim's to float32 rounding of the dot products. All
products of a chunk of sentences are gathered and reduced on the model's backend.
"""

from __future__ import annotations

import logging
import math
import struct

from xpnet.backend.kernels import get_kernel

from .similarity import _check_count

__all__ = ["predict_output_word", "score_sentences", "log_sigmoid_table"]

logger = logging.getLogger(__name__)

EXP_TABLE_SIZE, MAX_EXP = 1000, 6
# gensim's C code computes EXP_TABLE_SIZE / MAX_EXP / 2 in integers: 83, not 83.33.
_INDEX_SCALE = EXP_TABLE_SIZE // MAX_EXP // 2
MAX_SENTENCE_LEN = 10000

_F32 = struct.Struct("<f")


def _f32(x):
    """x rounded to the nearest float32 (as a Python float)."""
    return _F32.unpack(_F32.pack(x))[0]


def log_sigmoid_table():
    """gensim's ``LOG_TABLE``: log(sigmoid(x)) for x = (i / 1000 * 2 - 1) * 6, each step rounded
    to float32 as its C code rounds it."""
    table = []
    for i in range(EXP_TABLE_SIZE):
        x = _f32(_f32(_f32(_f32(i / EXP_TABLE_SIZE) * 2) - 1) * MAX_EXP)
        e = _f32(math.exp(x))
        table.append(_f32(math.log(_f32(e / _f32(e + 1)))))
    return table


_LOG_TABLE = None


def predict_output_word(model, context_words_list, topn=10):
    """See `Word2Vec.predict_output_word`."""
    # gensim slices with -topn: topn=0 would give every word and a float fails to slice.
    topn = _check_count("predict_output_word", "topn", topn, allow_none=False)
    if not model.negative:
        raise RuntimeError("predict_output_word: we have currently only implemented "
                           "predict_output_word for the negative sampling scheme, so you need "
                           "to have run word2vec with negative > 0 for this to work.")
    wv, syn1neg = model.wv, model.syn1neg
    if syn1neg is None or wv.vectors.shape[0] == 0 or syn1neg.shape[0] != wv.vectors.shape[0]:
        raise RuntimeError("predict_output_word: parameters required for predicting the output "
                           "words not found: the model needs its trained syn1neg (one row per "
                           f"word of wv, {wv.vectors.shape[0]}), got "
                           f"{None if syn1neg is None else tuple(syn1neg.shape)}")
    indices = [wv.get_index(word) for word in context_words_list if word in wv]
    if not indices:
        logger.warning("All the input context words are out-of-vocabulary for the current model.")
        return None
    backend = wv.backend
    xp = backend.xp
    rows = xp.take(wv.vectors, backend.asarray(indices, dtype="int64"), axis=0)
    hidden = xp.sum(rows, axis=0)
    if model.cbow_mean:
        hidden = hidden / len(indices)
    scores = syn1neg @ hidden
    # softmax without overflow: gensim's exp(scores) / sum(...) up to rounding.
    weights = xp.exp(scores - xp.max(scores))
    probabilities = weights / xp.sum(weights)
    order = xp.argsort(probabilities, descending=True, stable=True)[:topn]
    chosen = backend.to_numpy(order).tolist()
    values = backend.to_numpy(xp.take(probabilities, order)).tolist()
    return [(wv.index_to_key[i], float(p)) for i, p in zip(chosen, values)]


def _chunks(items, size):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_sentences(model, sentences, total_sentences=int(1e6), chunksize=100):
    """See `Word2Vec.score`."""
    global _LOG_TABLE
    if not model.wv.key_to_index:
        raise RuntimeError("score: you must first build vocabulary before scoring new data")
    if not model.hs or model.syn1 is None:
        raise RuntimeError("score: we have currently only implemented score for the "
                           "hierarchical softmax scheme, so you need to have run word2vec with "
                           "hs=1 and negative=0 for this to work.")
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError(f"score: expected chunksize a positive int, got {chunksize!r}")
    if _LOG_TABLE is None:
        _LOG_TABLE = log_sigmoid_table()
    backend = model.wv.backend
    xp = backend.xp
    table = backend.asarray(_LOG_TABLE, dtype="float32")
    key_to_index = model.wv.key_to_index
    codes, points = model.wv.expandos["code"], model.wv.expandos["point"]
    parts, count = [], 0
    for chunk in _chunks(sentences, chunksize):
        if count + len(chunk) > total_sentences:
            chunk = chunk[:max(0, total_sentences - count)]
            logger.warning("terminating after %i sentences (set higher total_sentences if you "
                           "want more).", total_sentences)
        if chunk:
            indexed = []
            for sentence in chunk:
                words = [key_to_index[w] for w in sentence if w in key_to_index]
                indexed.append(words[:MAX_SENTENCE_LEN])
            parts.append(_score_chunk(model, backend, xp, table, indexed, codes, points))
            count += len(chunk)
        if count >= total_sentences:
            break
    if not parts:
        return xp.zeros((0,), dtype=xp.float32, device=backend.device)
    return xp.concat(parts) if len(parts) > 1 else parts[0]


def _score_chunk(model, backend, xp, table, sentences, codes, points):
    """Scores of a few sentences of word indices: one row per (scored word, input) with the
    word's Huffman path, reduced on the backend."""
    window, size = model.window, model.vector_size
    # Host lists: which sentence, which inputs (one for skip-gram; the window's for CBOW, with
    # weights), which word's path.
    owner, path_of, inputs, weights = [], [], [], []
    for number, words in enumerate(sentences):
        n = len(words)
        for i, word in enumerate(words):
            if not codes[word]:
                continue  # a one-word vocabulary has no tree
            lo, hi = max(0, i - window), min(n, i + window + 1)
            context = [words[j] for j in range(lo, hi) if j != i and codes[words[j]]]
            if model.sg:
                for other in context:
                    owner.append(number)
                    path_of.append(word)
                    inputs.append([other])
                    weights.append([1.0])
            else:
                share = (1.0 / len(context) if model.cbow_mean else 1.0) if context else 0.0
                owner.append(number)
                path_of.append(word)
                inputs.append(context)
                weights.append([share] * len(context))
    total = len(sentences)
    if not owner:
        return xp.zeros((total,), dtype=xp.float32, device=backend.device)
    depth = max(len(codes[w]) for w in path_of)
    # Rows in slices, so that the (rows, depth, size) gather stays near 16 MB of floats.
    step = max(1, (1 << 22) // (depth * size))
    per_row = [_score_rows(model, backend, xp, table, inputs[s:s + step], weights[s:s + step],
                           path_of[s:s + step], codes, points, depth)
               for s in range(0, len(owner), step)]
    per_row = xp.concat(per_row) if len(per_row) > 1 else per_row[0]
    scatter_add = get_kernel("scatter_add", backend)
    owners = backend.asarray(owner, dtype="int64")
    return scatter_add(xp, owners, per_row, total)


def _score_rows(model, backend, xp, table, inputs, weights, path_of, codes, points, depth):
    """Summed log-sigmoids of each row's path (rows: a hidden vector and a word's path)."""
    size, rows = model.vector_size, len(path_of)
    width = max(1, max(len(row) for row in inputs))
    pad = lambda table_rows, fill: [r + [fill] * (width - len(r)) for r in table_rows]  # noqa: E731
    index = backend.asarray(pad(inputs, 0), dtype="int64")
    weight = backend.asarray(pad(weights, 0.0), dtype="float32")
    gathered = xp.reshape(xp.take(model.wv.vectors, xp.reshape(index, (-1,)), axis=0),
                          (rows, width, size))
    if model.sg or not model.cbow_mean:
        hidden = xp.sum(gathered * weight[:, :, None], axis=1)
    else:
        # gensim sums the window, then scales by 1/count in float32.
        hidden = xp.sum(gathered * xp.astype(weight > 0, gathered.dtype)[:, :, None], axis=1)
        hidden = hidden * weight[:, :1]
    node_rows = [list(points[w]) + [0] * (depth - len(points[w])) for w in path_of]
    signs = [[1.0 - 2.0 * c for c in codes[w]] + [0.0] * (depth - len(codes[w]))
             for w in path_of]
    nodes = backend.asarray(node_rows, dtype="int64")
    sign = backend.asarray(signs, dtype="float32")
    outputs = xp.reshape(xp.take(model.syn1, xp.reshape(nodes, (-1,)), axis=0),
                         (rows, depth, size))
    f = xp.reshape(outputs @ hidden[:, :, None], (rows, depth)) * sign
    usable = (sign != 0) & (f > -MAX_EXP) & (f < MAX_EXP)
    # gensim: LOG_TABLE[(int)((f + 6.0) * 83)], computed in double before the cast.
    wide = xp.float64 if backend.supports_float64 else xp.float32
    slot = xp.astype(xp.floor((xp.astype(f, wide) + MAX_EXP) * _INDEX_SCALE), xp.int64)
    slot = xp.clip(xp.where(usable, slot, xp.zeros_like(slot)), 0, EXP_TABLE_SIZE - 1)
    logs = xp.reshape(xp.take(table, xp.reshape(slot, (-1,))), slot.shape)
    return xp.sum(xp.where(usable, logs, xp.zeros_like(logs)), axis=1)
