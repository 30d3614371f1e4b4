"""Benchmarks for word vectors, as gensim 4 runs them: analogies (questions-words format) and
word-pair similarity (wordsim353 format), with Pearson and Spearman correlations and their
two-sided p-values written here with `math` only (gensim uses scipy.stats)."""

from __future__ import annotations

import bz2
import gzip
import logging
import math
import os

__all__ = ["evaluate_word_analogies", "evaluate_word_pairs", "pearsonr", "spearmanr",
           "betainc"]

logger = logging.getLogger(__name__)


# -- statistics ----------------------------------------------------------------------------------

def _continued_fraction(a, b, x):
    """The continued fraction of the incomplete beta function (modified Lentz's method,
    Numerical Recipes 6.4); converges fast for x < (a + 1) / (a + b + 2)."""
    tiny, eps = 1e-300, 1e-16
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 10000):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                          -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < eps:
            return result
    raise ArithmeticError(f"betainc: no convergence for a={a}, b={b}, x={x}")


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1."""
    if not (a > 0 and b > 0):
        raise ValueError(f"betainc: expected a > 0 and b > 0, got a={a}, b={b}")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"betainc: expected 0 <= x <= 1, got x={x}")
    if x == 0.0 or x == 1.0:
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _continued_fraction(a, b, x) / a
    # The symmetry I_x(a, b) = 1 - I_{1-x}(b, a) keeps the fraction in its fast region.
    return 1.0 - math.exp(log_front) * _continued_fraction(b, a, 1.0 - x) / b


def _correlation_p_value(r, n):
    """Two-sided p-value of a correlation r over n pairs under independence: Student's t with
    n - 2 degrees of freedom, t^2 = r^2 (n - 2) / (1 - r^2), i.e. I_{1-r^2}((n - 2) / 2, 1/2)."""
    if math.isnan(r):
        return math.nan
    if n == 2:
        return 1.0  # two points always lie on a line (scipy's answer)
    if abs(r) >= 1.0:
        return 0.0
    return min(1.0, betainc((n - 2) / 2.0, 0.5, (1.0 - r) * (1.0 + r)))


def pearsonr(x, y):
    """Pearson's r of two equal-length sequences and its two-sided p-value.

    Returns (nan, nan) when either sequence is constant, as scipy.stats does (without its
    warning).

    Raises
    ------
    ValueError
        For sequences of different lengths or fewer than 2 values.
    """
    x, y = [float(v) for v in x], [float(v) for v in y]
    n = len(x)
    if n != len(y):
        raise ValueError(f"pearsonr: x and y must have the same length, got {n} and {len(y)}")
    if n < 2:
        raise ValueError(f"pearsonr: x and y must have length at least 2, got {n}")
    mean_x, mean_y = math.fsum(x) / n, math.fsum(y) / n
    dx = [v - mean_x for v in x]
    dy = [v - mean_y for v in y]
    norm_x = math.sqrt(math.fsum(v * v for v in dx))
    norm_y = math.sqrt(math.fsum(v * v for v in dy))
    if norm_x == 0.0 or norm_y == 0.0:
        return math.nan, math.nan
    r = math.fsum((a / norm_x) * (b / norm_y) for a, b in zip(dx, dy))
    r = max(-1.0, min(1.0, r))
    return r, _correlation_p_value(r, n)


def _average_ranks(values):
    """Ranks 1..n, tied values sharing the mean of their ranks (scipy's rankdata 'average')."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2.0 + 1.0
        for k in range(start, end + 1):
            ranks[order[k]] = shared
        start = end + 1
    return ranks


def spearmanr(x, y):
    """Spearman's rank correlation (average ranks for ties) and its two-sided p-value (the
    t approximation scipy.stats.spearmanr uses)."""
    x, y = [float(v) for v in x], [float(v) for v in y]
    if len(x) != len(y):
        raise ValueError(f"spearmanr: x and y must have the same length, got {len(x)} and "
                         f"{len(y)}")
    if len(x) < 2:
        raise ValueError(f"spearmanr: x and y must have length at least 2, got {len(x)}")
    r, _ = pearsonr(_average_ranks(x), _average_ranks(y))
    return r, _correlation_p_value(r, len(x))


# -- benchmarks ----------------------------------------------------------------------------------

def _open(name, mode, encoding=None):
    """``open``, or gzip/bz2's for names ending in .gz/.bz2 (gensim opens through smart_open,
    which does the same)."""
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    if "b" in mode:
        return opener(name, mode)
    return opener(name, mode if mode.endswith("t") else mode + "t", encoding=encoding)


def _ok_vocab(kv, restrict_vocab, case_insensitive):
    """Key (upper-cased if asked) -> row, over the first ``restrict_vocab`` rows; with several
    case variants the first (most frequent) row wins, as in gensim."""
    ok = {}
    limit = len(kv) if restrict_vocab is None else restrict_vocab
    for index in reversed(range(min(len(kv.index_to_key), limit))):
        key = kv.index_to_key[index]
        ok[key.upper() if case_insensitive else key] = index
    return ok


def _section_score(section):
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * score, correct,
                correct + incorrect)
    return score


def evaluate_word_analogies(kv, analogies, restrict_vocab=300000, case_insensitive=True,
                            dummy4unknown=False, similarity_function="most_similar"):
    """Accuracy on "a b c d" analogies (a is to b as c is to d), in sections started by
    ``": name"`` lines, as the C tool's ``compute-accuracy`` and gensim.

    The prediction is the best of the top 5 answers of
    ``most_similar(positive=[b, c], negative=[a], restrict_vocab=restrict_vocab)`` (or of
    `most_similar_cosmul`) that is not a, b or c.

    Parameters
    ----------
    kv : KeyedVectors
    analogies : str or os.PathLike
        Path of the file (UTF-8), e.g. gensim's ``questions-words.txt``.
    restrict_vocab : int, default=300000
        Skip analogies with a word outside the first ``restrict_vocab`` keys.
    case_insensitive : bool, default=True
        Compare upper-cased words; the most frequent case variant stands for a word.
    dummy4unknown : bool, default=False
        Count analogies with unknown words as wrong instead of skipping them.
    similarity_function : {'most_similar', 'most_similar_cosmul'}
        gensim 4.4 accepts this but always uses most_similar.

    Returns
    -------
    score : float
        Overall accuracy in [0, 1].
    sections : list of dict
        ``{'section': name, 'correct': [(a, b, c, d), ...], 'incorrect': [...]}`` per section,
        then one named ``'Total accuracy'``.

    Raises
    ------
    ValueError
        For an analogy line before any section header, an unknown ``similarity_function``, or a
        file without analogies.
    """
    if similarity_function not in ("most_similar", "most_similar_cosmul"):
        raise ValueError(f"evaluate_word_analogies: similarity_function must be 'most_similar' "
                         f"or 'most_similar_cosmul', got {similarity_function!r}")
    ok_vocab = _ok_vocab(kv, restrict_vocab, case_insensitive)
    name = os.fspath(analogies)
    sections, section = [], None
    oov = quadruplets = 0
    queries = []  # (section, (a, b, c, expected), (row_a, row_b, row_c)) in file order
    with _open(name, "rb") as f:
        for line_no, raw in enumerate(f):
            line = raw.decode("utf8")
            if line.startswith(": "):
                section = {"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []}
                sections.append(section)
                continue
            if section is None:
                raise ValueError(f"evaluate_word_analogies: missing section header (': name') "
                                 f"before line #{line_no} in {name}")
            words = [w.upper() for w in line.split()] if case_insensitive else line.split()
            if len(words) != 4:
                logger.info("Skipping invalid line #%i in %s", line_no, name)
                continue
            quadruplets += 1
            if not all(w in ok_vocab for w in words):
                oov += 1
                if dummy4unknown:
                    queries.append((section, tuple(words), None))
                continue
            queries.append((section, tuple(words), tuple(ok_vocab[w] for w in words[:3])))
    if quadruplets == 0:
        raise ValueError(f"evaluate_word_analogies: no analogies ('a b c d' lines) found in "
                         f"{name}")
    if similarity_function == "most_similar":
        answers = _analogy_answers_batched(kv, [q[2] for q in queries if q[2] is not None],
                                           restrict_vocab)
    else:
        answers = [kv.most_similar_cosmul(positive=[kv.index_to_key[rb], kv.index_to_key[rc]],
                                          negative=[kv.index_to_key[ra]], topn=5,
                                          restrict_vocab=restrict_vocab)
                   for ra, rb, rc in (q[2] for q in queries if q[2] is not None)]
    answers = iter(answers)
    for section, (a, b, c, expected), rows in queries:
        predicted = None
        if rows is not None:
            # gensim's rule: the first of the top 5 that is not a, b or c in any case variant.
            for word, _ in next(answers):
                predicted = word.upper() if case_insensitive else word
                if predicted in ok_vocab and predicted not in (a, b, c):
                    break
        section["correct" if predicted == expected else "incorrect"].append((a, b, c, expected))
    for s in sections:
        _section_score(s)
    total = {"section": "Total accuracy",
             "correct": [q for s in sections for q in s["correct"]],
             "incorrect": [q for s in sections for q in s["incorrect"]]}
    logger.info("Quadruplets with out-of-vocabulary words: %.1f%%", 100.0 * oov / quadruplets)
    score = _section_score(total)
    sections.append(total)
    return score, sections


def _analogy_answers_batched(kv, rows_abc, restrict_vocab, block_elements=1 << 22):
    """For each (a, b, c), the top 5 of ``most_similar(positive=[b, c], negative=[a])`` as
    (key, score) lists: many queries per matrix product instead of one product each."""
    if not rows_abc:
        return []
    xp, device = kv.backend.xp, kv.backend.device
    size = kv.vectors.shape[0]
    end = min(restrict_vocab or size, size)
    normed = kv.get_normed_vectors()
    searched = kv.vectors[:end, :]
    norms = kv._safe_norms()[:end]
    per_block = max(1, block_elements // max(end, 1))
    answers = []
    for start in range(0, len(rows_abc), per_block):
        block = rows_abc[start:start + per_block]

        def rows(position):
            take = xp.asarray([r[position] for r in block], dtype=xp.int64, device=device)
            return xp.take(normed, take, axis=0)

        # most_similar's weighted mean (weights 1, 1, -1 over their absolute sum), unit-normed.
        means = (rows(1) + rows(2) - rows(0)) / 3
        lengths = xp.linalg.vector_norm(means, axis=1)
        means = means / xp.where(lengths > 0, lengths, xp.ones_like(lengths))[:, None]
        scores = (means @ xp.matrix_transpose(searched)) / norms[None, :]
        # 5 answers + up to 3 query words to drop, as most_similar(topn=5) asks for.
        top_rows, top_values = kv._top_per_query(scores, 8)
        for (ra, rb, rc), found, values in zip(block, top_rows, top_values):
            picked = [(kv.index_to_key[r], v) for r, v in zip(found, values)
                      if r not in (ra, rb, rc)]
            answers.append(picked[:5])
    return answers


def evaluate_word_pairs(kv, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                        case_insensitive=True, dummy4unknown=False):
    """Correlation of the vectors' cosine similarities with human judgements, as gensim's.

    Parameters
    ----------
    kv : KeyedVectors
    pairs : str or os.PathLike
        Lines ``word1<delimiter>word2<delimiter>score``; lines starting with ``#`` and lines
        that do not parse are skipped (e.g. gensim's ``wordsim353.tsv``, ``simlex999.txt``).
    delimiter, encoding : str
    restrict_vocab : int, default=300000
        Treat words outside the first ``restrict_vocab`` keys as unknown.
    case_insensitive : bool, default=True
    dummy4unknown : bool, default=False
        Give pairs with unknown words similarity 0 instead of skipping them.

    Returns
    -------
    pearson : tuple of (float, float)
        Pearson's r and its two-sided p-value.
    spearman : tuple of (float, float)
        Spearman's rho and its two-sided p-value.
    oov_ratio : float
        Percentage of pairs with an unknown word.

    Raises
    ------
    ValueError
        If no pair could be scored.
    """
    ok_vocab = _ok_vocab(kv, restrict_vocab, case_insensitive)
    name = os.fspath(pairs)
    gold, left, right, known = [], [], [], []
    oov = 0
    with _open(name, "r", encoding=encoding) as f:
        for line_no, line in enumerate(f):
            if not line or line.startswith("#"):
                continue
            try:
                parts = line.split(delimiter)
                if case_insensitive:
                    parts = [p.upper() for p in parts]
                a, b, score = parts
                score = float(score)
            except (ValueError, TypeError):
                logger.info("Skipping invalid line #%d in %s", line_no, name)
                continue
            if a not in ok_vocab or b not in ok_vocab:
                oov += 1
                if dummy4unknown:
                    gold.append(score)
                    known.append(False)
                continue
            gold.append(score)
            known.append(True)
            left.append(ok_vocab[a])
            right.append(ok_vocab[b])
    if not gold:
        raise ValueError(f"evaluate_word_pairs: no valid similarity judgements found in {name}: "
                         f"either invalid format or all are out-of-vocabulary in {kv}")
    model_scores = iter(_pair_similarities(kv, left, right))
    model = [next(model_scores) if ok else 0.0 for ok in known]
    pearson, spearman = pearsonr(gold, model), spearmanr(gold, model)
    if dummy4unknown:
        oov_ratio = float(oov) / len(gold) * 100
    else:
        oov_ratio = float(oov) / (len(gold) + oov) * 100
    logger.info("Pearson correlation coefficient against %s: %.4f", name, pearson[0])
    logger.info("Spearman rank-order correlation coefficient against %s: %.4f", name,
                spearman[0])
    logger.info("Pairs with unknown words ratio: %.1f%%", oov_ratio)
    return pearson, spearman, oov_ratio


def _pair_similarities(kv, left, right):
    """Cosine similarity of rows left[i] and right[i], for all pairs in one backend call."""
    if not left:
        return []
    xp, device = kv.backend.xp, kv.backend.device
    normed = kv.get_normed_vectors()
    a = xp.take(normed, xp.asarray(left, dtype=xp.int64, device=device), axis=0)
    b = xp.take(normed, xp.asarray(right, dtype=xp.int64, device=device), axis=0)
    return kv.backend.to_numpy(xp.sum(a * b, axis=1)).tolist()
