"""`make eval`'s parser and metrics, on small inputs worked out by hand."""

from __future__ import annotations

import math

import pytest

from bench.evaluation.cisi import parse_judgments, parse_records
from bench.evaluation.metrics import ndcg_at, recall_at, reciprocal_rank

ALL = """.I 1
.T
18 Editions of the Dewey
Decimal Classifications
.A
Comaromi, J.P.
.W
   The present study is a history
of the DEWEY Decimal Classification.
.X
1\t5\t1
.I 2
.T Use Made of Technical Libraries
.W
This report is an analysis.
"""


def test_records_keep_title_and_text_and_drop_authors_and_references() -> None:
    first, second = parse_records(ALL)

    assert (first.id, first.title) == ("1", "18 Editions of the Dewey Decimal Classifications")
    assert first.text == "The present study is a history of the DEWEY Decimal Classification."
    assert (second.id, second.title, second.text) == (
        "2",
        "Use Made of Technical Libraries",
        "This report is an analysis.",
    )


def test_judgments_group_documents_by_query() -> None:
    assert parse_judgments("     1     28\t0\t0.000000\n     1     35\t0\t0.0\n2 7 0 0.0\n") == {
        "1": {"28": 1, "35": 1},
        "2": {"7": 1},
    }


def test_metrics_on_a_ranking_worked_by_hand() -> None:
    judged = {"a": 1, "c": 1, "z": 1}
    ranked = ["b", "a", "c", "d"]

    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(3, ranked, judged) == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / ideal)
    assert recall_at(3, ranked, judged) == pytest.approx(2 / 3)
    assert reciprocal_rank(ranked, judged) == 0.5
    assert ndcg_at(10, ["a", "c", "z"], judged) == pytest.approx(1.0)
    assert reciprocal_rank(["x"], judged) == 0.0 and ndcg_at(10, [], judged) == 0.0
