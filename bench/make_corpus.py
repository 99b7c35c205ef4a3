"""Write a synthetic corpus of N distinct, news-like sentences for benchmarks.

How the sentences are made: each one combines an actor, an action, a place, a time and an attribution drawn from
lists written for this project (about 30 × 40 × 30 × 20 × 12 combinations), so all are distinct, grammatical and
varied in length (10–30 words). Half the sources lean "state" and half "opposition", and each side draws its
actions from its own list, so the corpus has framings to find. Sentences are grouped into documents of 25 with
a `metadata.csv` sidecar.

    python bench/make_corpus.py 10000 /tmp/corpus-10k
"""
from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

ACTORS = ["Government troops", "The army", "Militia units", "Opposition fighters", "Rebel brigades",
          "Local defence forces", "Armed groups", "Special forces", "Border guards", "Volunteer battalions",
          "Police units", "Allied aircraft", "Artillery crews", "Engineering teams", "Medical workers",
          "Aid workers", "Neighbourhood councils", "Civil defence teams", "Foreign advisers", "Mediators",
          "Municipal officials", "Residents", "Displaced families", "Reporters", "Human rights monitors",
          "Religious leaders", "Tribal elders", "Student groups", "Doctors", "Trade unions"]
STATE_ACTIONS = ["restored order in", "liberated", "cleared militants from", "secured the roads around",
                 "reopened schools in", "handed out bread in", "opened a safe corridor out of",
                 "dismantled terrorist cells in", "repaired the power lines of", "took back control of",
                 "disarmed gunmen in", "welcomed returning families to", "removed explosives from",
                 "restored water supplies to", "arrested foreign fighters in", "rebuilt the bridge near",
                 "ended years of shelling on", "protected civilians fleeing", "raised the national flag over",
                 "reported calm returning to"]
OPPOSITION_ACTIONS = ["besieged", "bombarded", "cut food supplies to", "shelled hospitals in",
                      "detained young men from", "blocked aid convoys to", "forced families out of",
                      "destroyed bakeries in", "starved the people of", "turned off the water of",
                      "denied medicine to", "flattened homes in", "fired on queues in", "sealed every exit of",
                      "left bodies in the streets of", "cut the phone lines of", "looted shops in",
                      "burned the fields around", "trapped thousands in", "silenced reporters in"]
PLACES = ["the old market", "the eastern districts", "the river quarter", "the northern suburbs",
          "the university campus", "the central hospital", "the railway station", "the industrial zone",
          "the southern crossing", "the airport road", "the citadel area", "the refugee camp",
          "the port", "the hill villages", "the western quarters", "the grain silos", "the bus depot",
          "the water plant", "the main bridge", "the cathedral square", "the cement works", "the textile mills",
          "the border town", "the lake villages", "the mountain pass", "the power station", "the old city",
          "the farming valley", "the military academy", "the stadium"]
TIMES = ["on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday", "on Sunday",
         "overnight", "at dawn", "late in the evening", "during the ceasefire", "after the talks collapsed",
         "before the convoy arrived", "in the first week of the month", "for the third time this year",
         "despite international appeals", "while negotiations continued", "amid heavy rain",
         "as winter set in", "shortly after midnight"]
ATTRIBUTIONS = ["officials said", "witnesses told reporters", "according to a local monitor",
                "state television reported", "activists said", "a military spokesman claimed",
                "residents said by telephone", "an aid agency reported", "the ministry announced",
                "a statement from the council said", "diplomats confirmed", "the claims could not be verified"]
SOURCES = [("Capital Herald", "state"), ("Frontline Daily", "state"), ("National Voice", "state"),
           ("Republic Wire", "state"), ("Observer Abroad", "opposition"), ("Free Valley Radio", "opposition"),
           ("Siege Diaries", "opposition"), ("Monitor Network", "opposition")]


def sentences(n: int, seed: int = 0):
    rng = random.Random(seed)
    seen: set[tuple] = set()
    while len(seen) < n:
        side = rng.randrange(2)
        actions = STATE_ACTIONS if side == 0 else OPPOSITION_ACTIONS
        key = (side, rng.randrange(len(ACTORS)), rng.randrange(len(actions)), rng.randrange(len(PLACES)),
               rng.randrange(len(TIMES)), rng.randrange(len(ATTRIBUTIONS)))
        if key in seen:
            continue
        seen.add(key)
        _, actor, action, place, time, attribution = key
        yield side, f"{ACTORS[actor]} {actions[action]} {PLACES[place]} {TIMES[time]}, {ATTRIBUTIONS[attribution]}."


def write_corpus(n: int, folder: Path, per_document: int = 25, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    by_side: dict[int, list[str]] = {0: [], 1: []}
    for side, sentence in sentences(n, seed):
        by_side[side].append(sentence)
    rows = []
    doc = 0
    for side, items in by_side.items():
        side_sources = [s for s in SOURCES if (s[1] == "state") == (side == 0)]
        for start in range(0, len(items), per_document):
            source, leaning = side_sources[doc % len(side_sources)]
            name = f"doc-{doc:05d}.txt"
            # a few sentences per paragraph, as in news copy
            chunk = items[start:start + per_document]
            paragraphs = [" ".join(chunk[i:i + 3]) for i in range(0, len(chunk), 3)]
            (folder / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
            rows.append({"file": name, "source": source, "leaning": leaning, "date": "2031-11-01",
                         "title": f"Report {doc}"})
            doc += 1
    with (folder / "metadata.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path = write_corpus(int(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {int(sys.argv[1])} sentences to {path}")
