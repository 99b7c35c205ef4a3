import numpy as np

from framing.duplicates import find_duplicates, find_reposts, normalise


def test_normalise_folds_case_quotes_dashes_and_spaces():
    assert normalise("The  army’s “advance” — ended\u00a0today.") == normalise('the army\'s "advance" - ended today.')


def test_exact_and_near_duplicates_form_groups_with_the_earliest_as_representative():
    texts = [
        "The ferry crews of the island line refused to sail until the new rota was withdrawn.",  # 0
        "A completely different sentence about bread prices in the eastern districts today.",     # 1
        "The ferry crews of the island line refused to sail until the new rota was withdrawn!",  # 2 exact-ish
        "The ferry crews of the island line refused to sail unless the new rota was withdrawn.",  # 3 near
        "the ferry crews of the island line refused to sail until the new rota was withdrawn.",  # 4 case
        "Short line.",                                                                              # 5
    ]
    groups = find_duplicates(texts, threshold=0.6)
    assert groups.group[0] == groups.group[2] == groups.group[3] == groups.group[4]
    assert len({groups.group[0], groups.group[1], groups.group[5]}) == 3
    assert groups.n_groups == 3 and list(groups.representative) == [0, 1, 5]
    exact_only = find_duplicates(texts, threshold=None)
    assert exact_only.group[0] == exact_only.group[4] != exact_only.group[3]
    # precedence: a later document that is earlier by date holds the original
    order = [5, 1, 2, 3, 0, 4]
    assert find_duplicates(texts, threshold=0.6, order=order).representative[0] == 4


def test_distinct_templated_sentences_are_not_merged():
    texts = [f"Government troops secured the {place} on {day}, officials said."
             for place in ("old market", "river quarter", "airport road") for day in ("Monday", "Tuesday")]
    assert find_duplicates(texts).n_groups == 6


def test_reposts_are_found_at_document_level():
    doc_ids = ["orig"] * 5 + ["copy"] * 6 + ["other"] * 4
    groups = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 9, 10, 20, 21, 22, 2])
    reposts = find_reposts(doc_ids, groups, {"orig": 0, "copy": 1, "other": 2})
    assert reposts == [{"document": "copy", "original": "orig", "shared_units": 4, "units": 6, "share": 0.6667}]
