"""Edit distance and token error rate by hand."""

import pytest

from rnnkit.metrics.transcription import edit_distance, error_rate


@pytest.mark.parametrize(
    "reference,hypothesis,distance",
    [
        ("", "", 0),
        ("123", "123", 0),
        ("123", "", 3),
        ("", "12", 2),
        ("123", "13", 1),
        ("123", "1423", 1),
        ("123", "143", 1),
        ("kitten", "sitting", 3),
        ([1, 2, 3, 4], [2, 3, 4, 5], 2),
    ],
)
def test_edit_distance(reference, hypothesis, distance):
    assert edit_distance(reference, hypothesis) == distance == edit_distance(hypothesis, reference)


def test_error_rate_is_total_distance_over_reference_tokens():
    assert error_rate(["123", "45"], ["123", "4"]) == pytest.approx(1 / 5)
    assert error_rate(["1"], ["1111"]) == 3.0  # insertions count
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        error_rate(["1", "2"], ["1"])
