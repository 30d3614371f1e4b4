"""Word Mover's Distance (`KeyedVectors.wmdistance`) through POT, the optional ``wmd`` extra.

The distance is an optimal-transport problem: move document 1's normalised bag of words onto
document 2's at a cost per unit equal to the Euclidean distance between the two words' vectors.
Only words of document 1 ever send and only words of document 2 ever receive, so the problem
is solved on that block of the cost matrix (gensim builds the square matrix over both
documents' words with zeros elsewhere, which cannot change the optimum). The costs are computed
on the vectors' backend; POT's exact network-simplex solver (``ot.emd2``) runs on the host.
"""

from __future__ import annotations

import logging
import math
from collections import Counter

from xpnet import backend as _backends

__all__ = ["wmdistance"]

logger = logging.getLogger(__name__)


def _emd2():
    try:
        from ot import emd2
    except ImportError as e:
        raise ImportError("wmdistance needs POT (Python Optimal Transport), an optional extra: "
                          "pip install 'xpnet[wmd]' (or pip install POT)") from e
    return emd2


def wmdistance(kv, document1, document2, norm=True):
    """See `KeyedVectors.wmdistance`."""
    emd2 = _emd2()
    known1 = [token for token in document1 if token in kv]
    known2 = [token for token in document2 if token in kv]
    dropped1, dropped2 = len(document1) - len(known1), len(document2) - len(known2)
    if dropped1 or dropped2:
        logger.info("Removed %d and %d OOV words from document 1 and 2 (respectively).",
                    dropped1, dropped2)
    if not known1 or not known2:
        logger.warning("At least one of the documents had no words that were in the vocabulary.")
        return math.inf
    bag1, bag2 = Counter(known1), Counter(known2)
    if len(set(bag1) | set(bag2)) == 1:
        return 0.0  # both documents are one and the same word
    words1, words2 = list(bag1), list(bag2)
    backend = kv.backend
    xp = backend.xp
    wide = xp.float64 if backend.supports_float64 else xp.float32

    def rows(words):
        stacked = xp.stack([kv.get_vector(word, norm=norm) for word in words])
        return xp.astype(stacked, wide)

    difference = rows(words1)[:, None, :] - rows(words2)[None, :, :]
    costs = xp.sqrt(xp.sum(difference * difference, axis=2))
    host = _backends.load("numpy").xp
    costs = host.astype(host.asarray(backend.to_numpy(costs)), host.float64)
    if float(host.sum(costs)) < 1e-8:
        logger.info("The distance matrix is all zeros. Aborting (returning inf).")
        return math.inf
    weights1 = host.asarray([bag1[w] / len(known1) for w in words1], dtype=host.float64)
    weights2 = host.asarray([bag2[w] / len(known2) for w in words2], dtype=host.float64)
    return float(emd2(weights1, weights2, costs))
