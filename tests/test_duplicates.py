import numpy as np

from framing.units.duplicates import find_duplicates, find_reposts, normalise


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


def reposts_by_sets(doc_ids, groups, doc_order, min_share, min_units):
    """The definition, by sets of groups per document: what find_reposts computes with arrays."""
    groups_of, units_of = {}, {}
    for doc, group in zip(doc_ids, groups):
        groups_of.setdefault(doc, set()).add(int(group))
        units_of[doc] = units_of.get(doc, 0) + 1
    found = []
    for doc in sorted(groups_of, key=doc_order.get):
        earlier = [o for o in groups_of if doc_order[o] < doc_order[doc]]
        if units_of[doc] < min_units or not earlier:
            continue
        shared, original = max((len(groups_of[doc] & groups_of[o]), -doc_order[o], o) for o in earlier)[::2]
        share = shared / len(groups_of[doc])
        if shared and share >= min_share:
            found.append({"document": doc, "original": original, "shared_units": shared, "units": units_of[doc],
                          "share": round(share, 4)})
    return found


def test_reposts_found_with_arrays_are_those_of_the_definition():
    rng = np.random.default_rng(0)
    found = 0
    for _ in range(300):
        n_docs, n_units = int(rng.integers(1, 12)), int(rng.integers(0, 60))
        doc_ids = [f"d{int(d)}" for d in rng.integers(0, n_docs, n_units)]
        groups = rng.integers(0, int(rng.integers(1, 40)), n_units)
        order = {f"d{k}": int(r) for k, r in enumerate(rng.permutation(n_docs))}
        for min_share, min_units in ((0.5, 3), (0.2, 1), (0.9, 2)):
            expected = reposts_by_sets(doc_ids, groups, order, min_share, min_units)
            assert find_reposts(doc_ids, groups, order, min_share=min_share, min_units=min_units) == expected
            found += len(expected)
    assert found > 100  # the draws do make reposts


def test_the_kept_low_bytes_of_minhash_estimate_jaccard_without_bias():
    """Only each MinHash value's low byte is kept (256 bytes a text, not 1,024); corrected for chance agreement
    (1 in 256) the share of equal bytes still estimates the Jaccard similarity of the shingle sets."""
    from framing.units.duplicates import shingle_hashes, word_shingles, minhash_signatures

    rng = np.random.default_rng(3)
    words = [f"w{k}" for k in range(5000)]
    texts, truths = [], []
    for _ in range(60):
        base = list(rng.choice(words, size=40, replace=False))
        changed = base.copy()
        for position in rng.choice(40, size=int(rng.integers(0, 12)), replace=False):
            changed[position] = f"x{rng.integers(1 << 30)}"
        texts += [" ".join(base), " ".join(changed)]
        a, b = word_shingles(texts[-2]), word_shingles(texts[-1])
        truths.append(len(a & b) / len(a | b))
    hashes, lengths = shingle_hashes(texts)
    _, low_bytes = minhash_signatures(hashes, lengths, 0.6, 256, seed=1)
    agree = (low_bytes[0::2] == low_bytes[1::2]).mean(axis=1)
    estimates = (agree - 1 / 256) / (1 - 1 / 256)
    errors = estimates - np.array(truths)
    assert abs(errors.mean()) < 0.02 and np.abs(errors).max() < 0.12
    assert min(truths) < 0.5 < 0.9 < max(truths)  # the pairs span the range that matters


def test_the_vectorised_jaccard_equals_that_of_the_shingle_sets():
    from framing.units.duplicates import jaccard, shingle_hashes, word_shingles

    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice([f"w{k}" for k in range(30)], size=int(rng.integers(1, 25)))) for _ in range(300)]
    hashes, lengths = shingle_hashes(texts)
    pairs = np.array([(i, j) for i in range(0, 300, 7) for j in range(i + 1, 300, 5)])
    want = [len(word_shingles(texts[i]) & word_shingles(texts[j])) / len(word_shingles(texts[i]) | word_shingles(texts[j]))
            for i, j in pairs]
    # a small chunk, so that the pairs are taken in many steps
    assert np.allclose(jaccard(pairs, hashes, lengths, chunk=500), want, atol=0, rtol=0)
    assert 0 < np.mean(np.array(want) > 0) < 1  # some pairs share shingles, some do not


def templated_texts(n: int = 400) -> list[str]:
    """One sentence frame with two words from three and a number: buckets of many texts, groups by chaining."""
    rng = np.random.default_rng(8)
    return [" ".join(["the", "army", "entered", "the", "old", "market", "on", *rng.choice(["w1", "w2", "w3"], size=2),
                      f"n{k}"]) for k in range(n)]


def test_a_bands_pairs_taken_a_chunk_at_a_time_are_every_pair_of_its_buckets():
    # on templated text a bucket of m texts holds m(m-1)/2 pairs: they are expanded a bounded chunk at a time
    import framing.units.duplicates as duplicates

    hashes, lengths = duplicates.shingle_hashes(templated_texts())
    band_keys, low_bytes = duplicates.minhash_signatures(hashes, lengths, 0.4, 64, seed=1)
    for keys in band_keys[:4]:
        by_definition = {(i, j) for i in range(keys.size) for j in range(i + 1, keys.size) if keys[i] == keys[j]}
        for limit in (1, 97, 1 << 30):
            parts = list(duplicates.band_pairs(np.asarray(keys), limit=limit))
            pairs = [tuple(sorted(pair)) for left, right in parts for pair in zip(left.tolist(), right.tolist())]
            assert len(pairs) == len(set(pairs)) and set(pairs) == by_definition
            assert all(left.size <= max(limit, keys.size) for left, _ in parts)
        assert len(by_definition) > 1000
    # the likely pairs are the same whether they are decoded in one chunk or many
    pairs = np.array(sorted(by_definition))
    whole = duplicates.likely_pairs(pairs, low_bytes, 0.5)
    assert np.array_equal(duplicates.likely_pairs(pairs, low_bytes, 0.5, chunk=97), whole) and len(whole)


def test_templated_text_groups_by_chaining_as_the_definition_says_in_any_chunk_of_pairs(monkeypatch):
    # big buckets, and groups that form only through chains of pairs: checking pairs a few at a time and skipping
    # those already grouped must give the groups of all the pairs
    import framing.units.duplicates as duplicates

    texts = templated_texts(300)
    order = np.random.default_rng(1).permutation(len(texts))
    expected_groups, expected_roots = groups_by_definition(texts, order, 0.5)
    assert 1 < len(expected_roots) < len(texts) / 4
    for limit in (1 << 22, 37):
        monkeypatch.setattr(duplicates, "PAIR_CHUNK", limit)
        found = find_duplicates(texts, threshold=0.5, order=order)
        assert found.group.tolist() == expected_groups and found.representative.tolist() == expected_roots, limit


def groups_by_definition(texts, order, threshold):
    """Union-find over every pair: equal normalised texts, or shingle sets at Jaccard >= threshold; a group's
    representative is its earliest unit by ``order``, groups numbered in that order."""
    from framing.units.duplicates import word_shingles

    n = len(texts)
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    sets = [word_shingles(normalise(t)) for t in texts]
    for i in range(n):
        for j in range(i + 1, n):
            same = normalise(texts[i]) == normalise(texts[j])
            if same or len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold:
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b, key=lambda u: order[u])] = min(a, b, key=lambda u: order[u])
    roots = [root(i) for i in range(n)]
    numbered = sorted(set(roots), key=lambda u: order[u])
    return [numbered.index(r) for r in roots], numbered


def near_duplicate_corpus(seed: int):
    """40-word sentences from 2,000 words, each repeated exactly, with changed case and quotes, or with one word
    replaced (Jaccard ~0.85: LSH proposes such a pair with probability 0.99996); unrelated ones share almost no
    shingle."""
    rng = np.random.default_rng(seed)
    words = [f"w{k}" for k in range(2000)]
    texts = []
    for _ in range(25):
        base = list(rng.choice(words, 40))
        texts.append(" ".join(base))
        for _ in range(int(rng.integers(0, 4))):
            kind, variant = int(rng.integers(3)), list(base)
            if kind == 1:
                variant[0] = variant[0].upper()
            elif kind == 2:
                variant[int(rng.integers(1, 39))] = str(rng.choice(words))
            texts.append(" ".join(variant))
    texts = [texts[i] for i in rng.permutation(len(texts))]
    return texts, rng.permutation(len(texts))


def test_groups_and_representatives_are_those_of_the_definition_in_memory_or_in_scratch_files(
        monkeypatch, tmp_path):
    from framing.units import duplicates

    for seed in range(3):
        texts, order = near_duplicate_corpus(seed)
        expected_groups, expected_roots = groups_by_definition(texts, order, 0.8)
        found = find_duplicates(texts, threshold=0.8, order=order)
        assert found.group.tolist() == expected_groups and found.representative.tolist() == expected_roots
        assert found.n_groups < len(texts)
        monkeypatch.setattr(duplicates, "SCRATCH_BYTES", 0)  # every MinHash array a scratch file
        monkeypatch.setattr(duplicates, "SHINGLE_BATCH", 7)
        monkeypatch.setattr(duplicates, "PAIR_CHUNK", 3)  # pairs checked and merged three at a time
        scratch = tmp_path / f"scratch-{seed}"
        scratch.mkdir()
        again = find_duplicates(texts, threshold=0.8, order=order, scratch=scratch)
        assert again.group.tolist() == expected_groups and again.representative.tolist() == expected_roots
        assert not list(scratch.iterdir())  # the scratch files have no name to leave behind
        monkeypatch.undo()


def test_minhash_arrays_past_the_limit_are_memory_mapped_scratch_files(monkeypatch, tmp_path):
    from framing.units import duplicates

    hashes, lengths = duplicates.shingle_hashes(near_duplicate_corpus(0)[0])
    in_memory = duplicates.minhash_signatures(hashes, lengths, 0.6, 256, 1)
    monkeypatch.setattr(duplicates, "SCRATCH_BYTES", 1024)
    mapped = duplicates.minhash_signatures(hashes, lengths, 0.6, 256, 1, scratch=tmp_path)
    assert isinstance(mapped[1], np.memmap) and not isinstance(in_memory[1], np.memmap)
    assert np.array_equal(mapped[0], in_memory[0]) and np.array_equal(mapped[1], in_memory[1])
