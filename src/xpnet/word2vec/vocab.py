"""Building the vocabulary: word counts, pruning, min_count, ordering and downsampling thresholds.

Everything here is plain Python on the host (dicts and lists); the model moves the finished
tables to the backend. The rules are gensim 4's, so the same corpus and settings give the same
vocabulary, order and thresholds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from .corpus import checked_sentences
from .errors import EmptyVocabularyError

__all__ = ["RULE_DEFAULT", "RULE_DISCARD", "RULE_KEEP", "Vocabulary", "VocabularyUpdate",
           "keep_vocab_item", "prepare_vocab", "prune_vocab", "scan_vocab", "update_vocab"]

logger = logging.getLogger(__name__)

# gensim's words for a corpus whose sentences are strings (it trains on their characters).
STRING_SENTENCE_WARNING = ("Each 'sentences' item should be a list of words (usually unicode "
                           "strings). First item here is instead plain %s.")

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
    huge corpora (and counts of pruned words restart from zero if they come back). A first
    sentence that is a plain string logs gensim's warning (its characters are counted as words).

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
        if not corpus_count and isinstance(sentence, str):
            logger.warning(STRING_SENTENCE_WARNING + " %s counts its characters as words; split "
                           "each sentence into a list of words first.", type(sentence), where)
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
    drop_unique : int
        Distinct words dropped by min_count (or the trim rule).
    downsample_unique : int
        Words whose occurrences downsampling drops in part.
    """

    index_to_key: list
    counts: list
    sample_int: list
    effective_min_count: int
    retain_total: int
    downsample_total: float
    drop_unique: int = 0
    downsample_unique: int = 0
    key_to_index: dict = field(init=False)

    def __post_init__(self):
        self.key_to_index = {word: i for i, word in enumerate(self.index_to_key)}

    def report(self):
        """gensim's ``prepare_vocab`` report: ``drop_unique``, ``retain_total``,
        ``downsample_unique``, ``downsample_total`` (an int) and ``num_retained_words``."""
        retained = len(self.index_to_key) - (1 if "\0" in self.key_to_index else 0)
        return {"drop_unique": self.drop_unique, "retain_total": self.retain_total,
                "downsample_unique": self.downsample_unique,
                "downsample_total": int(self.downsample_total), "num_retained_words": retained}


def _effective_min_count(counts, min_count, max_final_vocab):
    if max_final_vocab is None:
        return min_count
    if max_final_vocab >= len(counts):
        return max(1, min_count)  # gensim's calc_min_count starts at 1
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
    thresholds, kept, downsampled = [], 0.0, 0
    for v in counts:
        probability = (math.sqrt(v / threshold) + 1) * (threshold / v) if v else 1.0
        if probability < 1.0:
            downsampled += 1
        else:
            probability = 1.0
        kept += probability * v
        thresholds.append(int(probability * (2**32 - 1)))
    return thresholds, kept, downsampled


def empty_vocabulary_detail(raw_counts, effective_min_count):
    """Why no word is left, for the error `train` raises."""
    if not raw_counts:
        return "the corpus is empty"
    return (f"the corpus has {len(raw_counts)} distinct words, none seen at least "
            f"min_count={effective_min_count} times (or the trim rule dropped them)")


def empty_vocabulary_error(where, detail):
    return EmptyVocabularyError(f"{where}: no word is left to train on: {detail}; lower "
                                f"min_count or pass a larger corpus")


def prepare_vocab(raw_counts, *, min_count=5, max_final_vocab=None, sample=1e-3, sorted_vocab=True,
                  null_word=False, trim_rule=None, allow_empty=False):
    """Turn raw counts into a `Vocabulary` with gensim's rules.

    Words below the effective min_count (min_count, raised so at most ``max_final_vocab`` words
    remain) or refused by ``trim_rule`` are dropped; ``null_word`` appends ``'\\0'`` (count 1);
    ``sorted_vocab`` orders by descending count, ties broken as gensim's
    ``sort_by_descending_frequency`` (the later-appearing word first).

    Raises
    ------
    xpnet.word2vec.errors.EmptyVocabularyError
        If no word is left (a ValueError and a RuntimeError), unless ``allow_empty``.
    """
    effective = _effective_min_count(raw_counts, min_count, max_final_vocab)
    words = [w for w, v in raw_counts.items() if keep_vocab_item(w, v, effective, trim_rule)]
    if not words and not allow_empty:
        raise empty_vocabulary_error("build_vocab",
                                     empty_vocabulary_detail(raw_counts, effective))
    counts = [raw_counts[w] for w in words]
    retain_total = sum(counts)
    thresholds, kept, downsampled = downsampling_thresholds(counts, sample, retain_total)
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
    return Vocabulary(words, counts, thresholds, effective, retain_total, kept,
                      drop_unique=len(raw_counts) - (len(words) - int(bool(null_word))),
                      downsample_unique=downsampled)


@dataclass
class VocabularyUpdate:
    """A grown vocabulary (`update_vocab`): the old words in their order, then the new ones.

    Attributes
    ----------
    index_to_key, counts, sample_int : list
        As in `Vocabulary`, for the whole grown vocabulary.
    new_words : int
        How many words were appended.
    report : dict
        gensim's ``prepare_vocab`` report of the update.
    effective_min_count : int
    """

    index_to_key: list
    counts: list
    sample_int: list
    new_words: int
    report: dict
    effective_min_count: int


def update_vocab(index_to_key, counts, sample_int, raw_counts, *, min_count=5,
                 max_final_vocab=None, sample=1e-3, null_word=False, trim_rule=None):
    """Grow a vocabulary with the counts of a new corpus, by gensim's rules.

    A word of ``raw_counts`` that passes the effective min_count (judged on its count in the new
    corpus alone, ``max_final_vocab`` applied to the new counts) is appended when new; every
    word's count grows by its count in the new corpus; the downsampling thresholds of the words
    that passed are recomputed from the new corpus alone (the others keep theirs). The order is
    not re-sorted, so every old word keeps its index (and its rows in the weights).
    ``null_word`` adds ``'\\0'`` only if it is missing (gensim 4.4 appends another each time).
    """
    effective = _effective_min_count(raw_counts, min_count, max_final_vocab)
    key_to_index = {word: i for i, word in enumerate(index_to_key)}
    index_to_key, counts, sample_int = list(index_to_key), list(counts), list(sample_int)
    old_size = len(index_to_key)
    new_words, old_words, dropped = [], [], 0
    for word, v in raw_counts.items():
        if not keep_vocab_item(word, v, effective, trim_rule):
            dropped += 1
        elif word in key_to_index:
            old_words.append(word)
        else:
            new_words.append(word)
            key_to_index[word] = len(index_to_key)
            index_to_key.append(word)
            counts.append(0)
            sample_int.append(0)
    counts = [count + raw_counts.get(word, 0) for word, count in zip(index_to_key, counts)]
    retained = new_words + old_words  # gensim's order, which the float sums depend on
    retain_total = sum(raw_counts[word] for word in retained)
    thresholds, kept, downsampled = downsampling_thresholds(
        [raw_counts[word] for word in retained], sample, retain_total)
    for word, threshold in zip(retained, thresholds):
        sample_int[key_to_index[word]] = threshold
    if null_word and "\0" not in key_to_index:
        index_to_key.append("\0")
        counts.append(1)
        sample_int.append(0)
    report = {"drop_unique": dropped, "retain_total": retain_total,
              "downsample_unique": downsampled, "downsample_total": int(kept),
              "num_retained_words": len(retained)}
    return VocabularyUpdate(index_to_key, counts, sample_int, len(index_to_key) - old_size,
                            report, effective)


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
