"""Framings on the aleppo pages before and after the web-text stage (sections, duplicate groups).

"before" is plain clustering: every line is a unit (no sections), no duplicate groups. "after" is the default.
Each framing is scored against the hand labels in tests/fixtures/aleppo_sections.json:
- boilerplate framing: at least half its units stand on lines labelled boilerplate or byline;
- duplicate-only framing: at least half its units are text that also stands in another document (a repost);
- comment framing: at least half its units stand in reader comments.

    python bench/web_text.py [CORPUS_FOLDER]
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import framing  # noqa: E402
from framing.units.duplicates import normalise  # noqa: E402
from sections_eval import true_label  # noqa: E402

SETTINGS = {
    "before": ["units.detect_sections=false", "units.deduplicate=false"],
    "after": [],
}


def describe(name: str, result: framing.Result, labels: dict) -> None:
    units = result.units
    docs = result.documents.set_index("doc_id")["text"]
    line_of = [docs[d].count("\n", 0, s) + 1 for d, s in zip(units["doc_id"], units["start"])]
    truth = [true_label(line, labels[doc]) for line, doc in zip(line_of, units["doc_id"])]
    docs_with = Counter()
    for text, doc in set(zip(units["text"].map(normalise), units["doc_id"])):
        docs_with[text] += 1
    cross_doc = [docs_with[normalise(t)] > 1 for t in units["text"]]
    kinds = Counter()
    for f in result.framings:
        members = [i for i, label in enumerate(units["framing"]) if label == f.id]
        share = lambda flags: sum(flags[i] for i in members) / len(members)  # noqa: E731
        is_boiler = share([t in ("boilerplate", "byline") for t in truth]) >= 0.5
        is_dup = share(cross_doc) >= 0.5
        is_comment = share([t == "comments" for t in truth]) >= 0.5
        kinds.update({"boilerplate": is_boiler, "duplicate-only": is_dup, "comments": is_comment})
        flag = ("BOILERPLATE " if is_boiler else "") + ("DUPLICATE-ONLY " if is_dup else "")
        print(f"    {f.id:>2} {len(members):>3} units  {f.label[:50]:<50} boilerplate/byline "
              f"{share([t in ('boilerplate', 'byline') for t in truth]):4.0%}  copied {share(cross_doc):4.0%}  {flag}")
    counts = result.manifest["counts"]
    print(f"  {name}: {len(units)} units, {counts['framings']} framings, {kinds['boilerplate']} boilerplate, "
          f"{kinds['duplicate-only']} duplicate-only, {kinds['comments']} mostly comments, "
          f"{counts['unassigned']} of {counts.get('distinct_units', len(units))} distinct units unassigned; "
          f"reposts: {[(r['document'], r['original'], r['share']) for r in result.manifest.get('reposts', [])]}")


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpora" / "aleppo-2016"
    labels = json.loads((ROOT / "tests" / "fixtures" / "aleppo_sections.json").read_text())["files"]
    for name, overrides in SETTINGS.items():
        config = framing.load_config(ROOT / "configs" / "aleppo-2016.yaml", [f"corpus.path={folder}", *overrides])
        print(f"== {name}: framing run configs/aleppo-2016.yaml {' '.join('--set ' + o for o in overrides)}")
        describe(name, framing.analyze(None, config, progress=False), labels)


if __name__ == "__main__":
    main()
