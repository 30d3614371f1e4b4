"""A `Word2Vec` model's weights: fresh ones for its vocabulary (`init_weights`, gensim's for
the same seed), rows added for words a vocabulary update brought (`grow_weights`), and the
random streams a fresh start restarts (`generators`)."""

from __future__ import annotations

from xpnet.backend.random import Generator

from .errors import EmptyVocabularyError

__all__ = ["generators", "grow_weights", "init_weights"]


def generators(seed):
    """Independent random streams, one per purpose, all determined by ``seed`` (see
    `xpnet.word2vec.sampling` for why they are separate). The initial vectors come from
    ``Generator(seed)`` itself, as gensim's (`init_weights`); "init" keeps its place so
    the other streams keep their seeds."""
    names = ("init", "subsample", "windows", "negatives")
    return {name: Generator(seed * len(names) + i) for i, name in enumerate(names)}


def init_weights(model):
    """`Word2Vec.init_weights`: input vectors as gensim's, output layers zero."""
    xp, n = model._backend.xp, len(model.wv.index_to_key)
    model.wv.vectors = xp.zeros((0, model.vector_size), dtype=xp.float32,
                                device=model._backend.device)
    model.wv.vectors_lockf = None
    model.wv.resize_vectors(seed=model.seed)
    model.wv.vectors_lockf = xp.ones((n,), dtype=xp.float32, device=model._backend.device)
    # Every fresh start restarts the random streams, so training after it is reproducible.
    model._generators = generators(model.seed)
    zeros = lambda: xp.zeros((n, model.layer1_size), dtype=xp.float32,  # noqa: E731
                             device=model._backend.device)
    model.syn1 = zeros() if model.hs else None
    model.syn1neg = zeros() if model.negative else None
    model._sampler = None


def grow_weights(model):
    """`Word2Vec.update_weights`: old rows kept, new input rows as a fresh start would give
    them, new output rows zero; the arrays are replaced, never grown in place."""
    if model.wv.vectors.shape[0] == 0:
        raise EmptyVocabularyError(
            "update_weights: cannot grow the weights of a model that has none; build the "
            "vocabulary with build_vocab(corpus) (without update) first")
    xp = model._backend.xp
    before = model.wv.vectors.shape[0]
    model.wv.resize_vectors(seed=model.seed)
    gained = model.wv.vectors.shape[0] - before
    pad = lambda a: None if a is None else xp.concat(  # noqa: E731
        [a, xp.zeros((gained, a.shape[1]), dtype=a.dtype, device=model._backend.device)],
        axis=0)
    model.syn1, model.syn1neg = pad(model.syn1), pad(model.syn1neg)
    model._sampler = None
