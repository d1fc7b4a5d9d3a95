"""cs231n.captioning_metrics: BLEU (through NLTK) and exact-caption rate on hand-worked examples."""
import math
import warnings

import pytest

from cs231n.captioning_metrics import bleu_scores, caption_metrics, exact_match_rate, tokenize

pytestmark = pytest.mark.a3


def test_tokenize_drops_the_special_words():
    assert tokenize("<START> a cat on a <UNK> mat <END>") == ["a", "cat", "on", "a", "mat"]
    assert tokenize(["<START>", "a", "dog"]) == ["a", "dog"]
    assert tokenize("a <END>", drop=()) == ["a", "<END>"]


def test_perfect_match_scores_one():
    preds = ["<START> a cat sitting on a mat <END>", "two dogs play in the park"]
    refs = [["a dog", "a cat sitting on a mat"], [["two", "dogs", "play", "in", "the", "park"]]]
    scores = caption_metrics(preds, refs)
    assert scores == {"BLEU-1": 1.0, "BLEU-2": 1.0, "BLEU-3": 1.0, "BLEU-4": 1.0, "exact": 1.0}


def test_brevity_penalty_by_hand():
    # All of "the cat sat" is in the reference, but it is 3 words for 6:
    # p_1 = p_2 = p_3 = 1, BP = exp(1 - 6/3) = exp(-1). No 4-gram: BLEU-4 about 0.
    scores = bleu_scores(["the cat sat"], ["the cat sat on the mat"])
    assert scores["BLEU-1"] == pytest.approx(math.exp(-1), rel=1e-12)
    assert scores["BLEU-2"] == pytest.approx(math.exp(-1), rel=1e-12)
    assert scores["BLEU-3"] == pytest.approx(math.exp(-1), rel=1e-12)
    assert scores["BLEU-4"] < 1e-50


def test_clipped_counts_by_hand():
    # "the the the cat" against "the cat": 'the' counts at most once (clipped), so
    # p_1 = (1 + 1) / 4; bigrams 'the the' x2, 'the cat': p_2 = 1 / 3. Longer than the
    # reference: BP = 1. BLEU-2 = sqrt(1/2 * 1/3).
    scores = bleu_scores(["the the the cat"], [["the cat"]], max_n=2)
    assert scores == pytest.approx({"BLEU-1": 0.5, "BLEU-2": math.sqrt(1 / 6)}, rel=1e-12)


def test_closest_reference_length_sets_the_penalty():
    # References of 6 and 4 words: the closest to the 3 predicted is 4, BP = exp(1 - 4/3).
    scores = bleu_scores(["a b c"], [["a b c d e f", "a b c d"]], max_n=1)
    assert scores["BLEU-1"] == pytest.approx(math.exp(-1 / 3), rel=1e-12)


def test_corpus_bleu_pools_counts_over_captions():
    # 2 of 2 words right, then 0 of 4: pooled p_1 = 2/6, not the mean of 1 and 0;
    # lengths 6 = 6: no penalty.
    scores = bleu_scores(["a b", "c d e f"], [["a b"], ["w x y z"]], max_n=1)
    assert scores["BLEU-1"] == pytest.approx(1 / 3, rel=1e-12)


def test_no_warning_leaks_from_nltk():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bleu_scores(["the cat sat"], ["the cat sat on the mat"])["BLEU-4"] < 1e-50


def test_exact_match_rate():
    preds = ["<START> a cat <END>", "a dog", "a red bus", "the"]
    refs = [["a big cat", "a cat"], ["a dog runs"], [["a", "red", "bus"]], "the <END>"]
    assert exact_match_rate(preds, refs) == 0.75


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="one list of references per prediction"):
        bleu_scores(["a b", "c"], [["a b"]])
    with pytest.raises(ValueError, match="no reference caption"):
        exact_match_rate(["a"], [[]])
    with pytest.raises(ValueError, match="no predictions"):
        bleu_scores([], [])
    with pytest.raises(TypeError, match="not a single string"):
        bleu_scores("a cat", ["a cat"])
    with pytest.raises(TypeError, match="string or a list of word strings"):
        bleu_scores([[1, 2]], [["a"]])
    with pytest.raises(ValueError, match="max_n"):
        bleu_scores(["a"], [["a"]], max_n=0)
