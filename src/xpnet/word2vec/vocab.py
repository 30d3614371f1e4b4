"""Building the vocabulary: word counts, pruning, min_count, ordering and downsampling thresholds.

Everything here is plain Python on the host (dicts and lists); the model moves the finished
tables to the backend. The rules are gensim 4's, so the same corpus and settings give the same
vocabulary, order and thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .corpus import checked_sentences

__all__ = ["RULE_DEFAULT", "RULE_DISCARD", "RULE_KEEP", "Vocabulary", "keep_vocab_item",
           "prepare_vocab", "prune_vocab", "scan_vocab"]

# What a trim_rule(word, count, min_count) returns (gensim.utils' values).
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2


def keep_vocab_item(word, count, min_count, trim_rule=None):
    """Whether ``word`` stays: ``count >= min_count`` unless ``trim_rule`` decides otherwise."""
    if trim_rule is None:
        return count >= min_count
    verdict = trim_rule(word, count, min_count)
    if verdict == RULE_KEEP:
        return True
    if verdict == RULE_DISCARD:
        return False
    return count >= min_count


def prune_vocab(counts, min_reduce, trim_rule=None):
    """Drop, in place, words counted fewer than ``min_reduce`` times; returns the dropped total."""
    dropped = 0
    for word in list(counts):
        if not keep_vocab_item(word, counts[word], min_reduce, trim_rule):
            dropped += counts.pop(word)
    return dropped


def scan_vocab(corpus, max_vocab_size=None, trim_rule=None, where="build_vocab"):
    """Count words over one pass of ``corpus``.

    While more than ``max_vocab_size`` distinct words are held, the rarest are pruned with a
    threshold that rises by one at each pruning, as gensim does, so memory stays bounded on
    huge corpora (and counts of pruned words restart from zero if they come back).

    Returns
    -------
    counts : dict
        word -> count, in order of first appearance (gensim breaks count ties by this order).
    total_words : int
        Raw words seen, in-vocabulary or not.
    corpus_count : int
        Sentences seen.
    """
    counts = {}
    total_words = corpus_count = 0
    min_reduce = 1
    get = counts.get
    for sentence in checked_sentences(where, corpus):
        corpus_count += 1
        for word in sentence:
            counts[word] = get(word, 0) + 1
        total_words += len(sentence)
        if max_vocab_size and len(counts) > max_vocab_size:
            prune_vocab(counts, min_reduce, trim_rule)
            min_reduce += 1
    return counts, total_words, corpus_count


@dataclass
class Vocabulary:
    """The finished vocabulary.

    Attributes
    ----------
    index_to_key : list of str
        Words by index (most frequent first when sorted).
    counts : list of int
        Corpus count of each word, by index.
    sample_int : list of int
        Downsampling thresholds: a word occurrence is kept when a uniform random 32-bit integer
        is at most this (gensim's ``sample_int``; 2**32 - 1 keeps every occurrence).
    effective_min_count : int
    retain_total : int
        Corpus words left after min_count.
    downsample_total : float
        Expected corpus words left after downsampling.
    """

    index_to_key: list
    counts: list
    sample_int: list
    effective_min_count: int
    retain_total: int
    downsample_total: float
    key_to_index: dict = field(init=False)

    def __post_init__(self):
        self.key_to_index = {word: i for i, word in enumerate(self.index_to_key)}


def _effective_min_count(counts, min_count, max_final_vocab):
    if max_final_vocab is None or max_final_vocab >= len(counts):
        return min_count
    # sorted() is stable: ties stay in first-appearance order, as in gensim.
    by_count = sorted(counts, key=counts.__getitem__, reverse=True)
    return max(counts[by_count[max_final_vocab]] + 1, min_count)


def downsampling_thresholds(counts, sample, retain_total):
    """gensim's ``sample_int`` per word and the expected words kept.

    A word seen ``v`` times out of a ``threshold_count`` scale is kept with probability
    ``(sqrt(v / t) + 1) * t / v`` (capped at 1), where ``t = sample * retain_total`` for
    ``sample < 1`` and ``t = int(sample * (3 + sqrt(5)) / 2)`` for ``sample >= 1``.
    """
    if not sample:
        threshold = retain_total
    elif sample < 1.0:
        threshold = sample * retain_total
    else:
        threshold = int(sample * (3 + math.sqrt(5)) / 2)
    thresholds, kept = [], 0.0
    for v in counts:
        probability = (math.sqrt(v / threshold) + 1) * (threshold / v) if v else 1.0
        probability = min(probability, 1.0)
        kept += probability * v
        thresholds.append(int(probability * (2**32 - 1)))
    return thresholds, kept


def prepare_vocab(raw_counts, *, min_count=5, max_final_vocab=None, sample=1e-3, sorted_vocab=True,
                  null_word=False, trim_rule=None):
    """Turn raw counts into a `Vocabulary` with gensim's rules.

    Words below the effective min_count (min_count, raised so at most ``max_final_vocab`` words
    remain) or refused by ``trim_rule`` are dropped; ``null_word`` appends ``'\\0'`` (count 1);
    ``sorted_vocab`` orders by descending count, ties broken as gensim's
    ``sort_by_descending_frequency`` (the later-appearing word first).

    Raises
    ------
    ValueError
        If no word is left.
    """
    effective = _effective_min_count(raw_counts, min_count, max_final_vocab)
    words = [w for w, v in raw_counts.items() if keep_vocab_item(w, v, effective, trim_rule)]
    if not words:
        detail = (f"the corpus has {len(raw_counts)} distinct words, none seen at least "
                  f"min_count={effective} times" if raw_counts else "the corpus is empty")
        raise ValueError(f"build_vocab: no word is left to train on: {detail}; lower min_count "
                         f"or pass a larger corpus")
    counts = [raw_counts[w] for w in words]
    retain_total = sum(counts)
    thresholds, kept = downsampling_thresholds(counts, sample, retain_total)
    if null_word:
        words.append("\0")
        counts.append(1)
        thresholds.append(0)  # gensim leaves it 0: padding, never sampled from the corpus
    if sorted_vocab:
        n = len(words)
        order = sorted(range(n), key=lambda i: (-counts[i], -i))
        words = [words[i] for i in order]
        counts = [counts[i] for i in order]
        thresholds = [thresholds[i] for i in order]
    return Vocabulary(words, counts, thresholds, effective, retain_total, kept)


def cumulative_table(counts, ns_exponent=0.75, domain=2**31 - 1):
    """gensim's ``cum_table``: running sums of count**ns_exponent scaled to end at ``domain``.

    A negative sample is the insertion point (``searchsorted``, side left) of a uniform integer
    in ``[0, table[-1])``, so word ``i`` is drawn with probability proportional to its increment.
    """
    powered = [float(c) ** float(ns_exponent) for c in counts]
    total = sum(powered)
    table, running = [], 0.0
    for p in powered:
        running += p
        table.append(round(running / total * domain))
    return table
