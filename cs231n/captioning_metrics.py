"""Scores of generated captions against reference captions: corpus BLEU-1..4 (NLTK)
and the exact-caption rate. Numpy-free and framework-free.

A caption is a string of space-separated words (as coco_utils.decode_captions gives)
or a list of word tokens. The special words <NULL>, <START>, <END> and <UNK> are
dropped before scoring, as the course's BLEU_score did, so that the sentence markers
do not count as matched words. Words are compared as they are (no lowercasing; the
COCO vocabulary is lowercase already).

BLEU (Papineni et al., 2002) as NLTK's ``corpus_bleu`` computes it: modified n-gram
precisions p_n with counts clipped to the most any one reference holds, summed over the
whole corpus before dividing (not an average of per-caption scores), and

    BLEU-n = BP * exp(mean(log p_1, ..., log p_n)),   BP = min(1, exp(1 - r / c))

with c the total length of the predictions and r the sum over captions of the
reference length closest to the prediction's (the shorter on a tie).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>", "<UNK>")

Caption = str | Sequence[str]


def tokenize(caption: Caption, drop: Sequence[str] = SPECIAL_TOKENS) -> list[str]:
    """The words of a caption (a string split on whitespace, or a list of tokens),
    less the special words in `drop`."""
    if isinstance(caption, str):
        words = caption.split()
    elif isinstance(caption, Sequence) and all(isinstance(w, str) for w in caption):
        words = list(caption)
    else:
        raise TypeError(f"a caption must be a string or a list of word strings, "
                        f"got {caption!r:.80}")
    return [w for w in words if w not in drop]


def _tokenized(predictions: Sequence[Caption], references: Sequence) -> tuple[list, list]:
    """Tokenize predictions (one caption each) and references (a caption or a list of
    reference captions for each prediction), checking that they pair up."""
    if isinstance(predictions, str) or isinstance(references, str):
        raise TypeError("predictions and references must be lists with one entry per "
                        "image, not a single string")
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} reference "
                         f"lists: give one list of references per prediction")
    if not predictions:
        raise ValueError("no predictions to score")
    hyps = [tokenize(p) for p in predictions]
    refs = []
    for i, ref in enumerate(references):
        group = [ref] if isinstance(ref, str) else list(ref)
        if not group:
            raise ValueError(f"prediction {i} has no reference caption")
        refs.append([tokenize(r) for r in group])
    return hyps, refs


def bleu_scores(predictions: Sequence[Caption], references: Sequence,
                max_n: int = 4, smoothing_function=None) -> dict[str, float]:
    """Corpus BLEU-1 .. BLEU-max_n of predicted captions (NLTK's corpus_bleu).

    Inputs:
    - predictions: list of N captions (strings or token lists)
    - references: list of N entries, each a list of reference captions for that
      prediction (strings or token lists), or a single reference string
    - max_n: highest n-gram order (BLEU-n uses uniform weights 1/n over orders 1..n)
    - smoothing_function: passed to corpus_bleu (None: no smoothing, as BLEU is defined;
      an order with no match then gives 0, or NLTK's tiny stand-in of about 1e-78)

    Returns:
    - dict {'BLEU-1': float, ..., 'BLEU-<max_n>': float}, each in [0, 1]
    """
    from nltk.translate.bleu_score import corpus_bleu

    if not isinstance(max_n, int) or max_n < 1:
        raise ValueError(f"max_n must be a positive integer, got {max_n!r}")
    hyps, refs = _tokenized(predictions, references)
    weights = [tuple([1.0 / n] * n) for n in range(1, max_n + 1)]
    with warnings.catch_warnings():
        # NLTK warns on every call where some order has no match; the 0 it returns says it.
        warnings.filterwarnings("ignore", message=r"\s*The hypothesis contains 0 counts",
                                category=UserWarning)
        scores = corpus_bleu(refs, hyps, weights=weights, smoothing_function=smoothing_function)
    if len(weights) == 1:           # NLTK returns a bare number for a single weight tuple
        scores = [scores]
    return {f"BLEU-{n}": float(s) for n, s in zip(range(1, max_n + 1), scores, strict=True)}


def exact_match_rate(predictions: Sequence[Caption], references: Sequence) -> float:
    """Fraction of predictions whose words equal those of one of their references.

    Inputs as bleu_scores. Returns a float in [0, 1].
    """
    hyps, refs = _tokenized(predictions, references)
    return sum(h in group for h, group in zip(hyps, refs, strict=True)) / len(hyps)


def caption_metrics(predictions: Sequence[Caption], references: Sequence) -> dict[str, float]:
    """BLEU-1..4 and the exact-caption rate (key 'exact') in one dict."""
    return {**bleu_scores(predictions, references),
            "exact": exact_match_rate(predictions, references)}
