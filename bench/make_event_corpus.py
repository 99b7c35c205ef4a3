"""Write a corpus with known events and known framing, for measuring events and the within-event contrast.

Written for this project (no third-party text). Ten events in the fictional country of Ostrava, each with its own
place, date and facts. Six outlets in two groups:

- **shared events 0-5** are each told by four outlets, two per group (L1, L2 | R1, R2), two articles each. The
  groups frame them differently on purpose: the "left" outlets mostly tell the human cost (frame
  ``humanitarian``), the "right" outlets mostly order and threat (frame ``security``);
- **agenda-only events 6-9**: L3 covers events 6 and 7 only, R3 events 8 and 9 only, three articles each, both
  told the same way (mostly frame ``economic``): the groups differ in which events they cover, not in how.

Every article has three of its event's six fact sentences (no frame: ``fact``) and seven framed sentences, each
opened its own way. With
``--shuffle``, the shared events' articles take the left or the right mix of frames at random, whatever their
outlet: framing then does not depend on the group within events (the null), while the agenda still differs.

Writes ``<out>/*.txt``, ``<out>/metadata.csv`` (file, source, group, date, title, event), ``<out>/labels.csv``
(unit id → frame: each sentence is one unit, ``<file>#<k>``) and ``<out>/truth.json`` (events and frames by
document).

    python bench/make_event_corpus.py /tmp/events [--shuffle] [--seed 0]
"""
from __future__ import annotations

import argparse
import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

# (place, object, actor, number, kind, facts: six sentences with the event's own details; an article tells three)
EVENTS = [
    ("Kessel", "the Kessel river bridge", "the national guard", "forty", "bridge collapse", [
        "The old river bridge at Kessel gave way on Tuesday morning while lorries were crossing it.",
        "Divers searched the brown water under the broken Kessel span until nightfall.",
        "Engineers had inspected the iron bridge at Kessel two winters before it fell.",
        "Traffic between the two halves of Kessel now crosses by ferry.",
        "The collapsed Kessel bridge carried some nine thousand vehicles a day.",
        "Parts of the fallen girders of the Kessel bridge lie across the riverbank."]),
    ("Marnow", "the Marnow grain depot", "the interior ministry", "sixty", "depot fire", [
        "Flames spread through the grain depot on the edge of Marnow shortly after midnight.",
        "Firefighters from three districts fought the Marnow depot blaze for eleven hours.",
        "Smoke from the burning silos at Marnow could be seen from the motorway.",
        "The depot at Marnow held most of the region's winter wheat reserve.",
        "Investigators were seen sifting through the charred sheds of the Marnow depot.",
        "The roof of the largest Marnow warehouse caved in before dawn."]),
    ("Tessa", "the Tessa coal mine", "the mine operator", "twelve", "mine flood", [
        "Water broke into the lower galleries of the Tessa coal mine during the night shift.",
        "Rescue teams pumped the flooded shafts at Tessa for three days.",
        "The Tessa pit had been ordered to repair its drainage pumps last spring.",
        "Pumps brought from the capital arrived at the Tessa pithead on the second day.",
        "The flooded Tessa galleries lie nearly four hundred metres underground.",
        "Miners' lamps were laid out in a row at the Tessa pithead."]),
    ("Orlen", "the Orlen border crossing", "the border police", "three hundred", "border clash", [
        "Shots were exchanged at the Orlen border crossing before dawn on Friday.",
        "Queues of trucks stretched for miles on both sides of the closed Orlen checkpoint.",
        "The crossing at Orlen is the busiest road link between the two countries.",
        "Customs officers at Orlen stopped all freight for the rest of the week.",
        "The Orlen checkpoint reopened to pedestrians on Sunday afternoon.",
        "Diplomats from both capitals met at a hotel near Orlen to discuss the shooting."]),
    ("Villach", "the Villach chemical plant", "the environment agency", "two thousand", "chemical leak", [
        "A cloud of chlorine escaped from a tank at the Villach chemical plant on Sunday.",
        "Sirens sounded across Villach as the yellow cloud drifted over the river.",
        "The Villach plant produces solvents and cleaning agents for export.",
        "Schools in Villach were closed and residents told to keep their windows shut.",
        "Tests of the air in Villach showed chlorine levels falling by evening.",
        "The damaged tank at Villach had been installed in the nineteen-eighties."]),
    ("Brenna", "the Brenna central station", "the transport police", "eighty", "station riot", [
        "Fighting broke out between football supporters in Brenna central station on Saturday evening.",
        "Windows of the ticket hall at Brenna station were smashed and benches set alight.",
        "Trains through Brenna were halted for most of the night.",
        "Both clubs whose supporters clashed at Brenna were fined by the league.",
        "Repairs to the Brenna ticket hall are expected to take a month.",
        "Video from Brenna station showed crowds running along the platforms."]),
    ("Dolny", "the Dolny textile mill", "the mill owners", "four hundred", "mill closure", [
        "The textile mill at Dolny announced that its looms will stop at the end of the month.",
        "The Dolny mill has woven cotton cloth in the valley for ninety years.",
        "Workers at Dolny were told of the closure at a short meeting in the yard.",
        "The owners of the Dolny mill blamed cheap imported fabric.",
        "The Dolny looms were among the last of their kind in the country.",
        "Trade union officials met the Dolny mill managers on Friday."]),
    ("Sarvik", "the Sarvik fishing harbour", "the fisheries board", "fifty", "harbour quota", [
        "Trawlers stayed tied up in Sarvik harbour after the new catch quotas came into force.",
        "The fish market at Sarvik opened with empty stalls on Monday.",
        "Sarvik's fleet lands most of the herring eaten in the north.",
        "Boat owners in Sarvik said the quota would not cover their fuel costs.",
        "The Sarvik harbour master counted forty idle trawlers on Tuesday.",
        "Buyers from the south drove to Sarvik and left with nothing."]),
    ("Halden", "the Halden steelworks", "the steel company", "nine hundred", "steel strike", [
        "Furnace crews at the Halden steelworks walked out on Thursday over unpaid bonuses.",
        "Picket lines formed at every gate of the Halden works before the morning shift.",
        "The Halden plant rolls the steel used in half the country's railways.",
        "Talks between the Halden strikers and managers broke down after midnight.",
        "The furnaces at Halden were kept warm by a skeleton crew.",
        "The Halden strike is the first at the works in twenty years."]),
    ("Pernau", "the Pernau toll motorway", "the roads authority", "thirty", "toll rise", [
        "Drivers on the Pernau motorway paid double tolls from the first of the month.",
        "Queues formed at the Pernau toll gates as drivers argued with the cashiers.",
        "The Pernau motorway links the capital with the southern ports.",
        "The roads authority said the Pernau toll money would repair the southern bridges.",
        "Hauliers threatened to block the Pernau toll gates with their lorries.",
        "Traffic on the old road parallel to the Pernau motorway doubled overnight."]),
]

FRAMES = {
    "humanitarian": [
        "Families in {place} spent the night without shelter, clutching what little they could carry.",
        "A mother in {place} said she still had no word of her son, one of {number} people missing.",
        "Nurses treating the injured from {place} worked through the night with too few beds.",
        "Children in {place} are sleeping in school gyms, frightened and cold.",
        "Volunteers handed out blankets and soup to the grieving relatives near {object}.",
        "Survivors of {place} described screams, dust and neighbours they could not reach.",
        "Aid groups warned that the suffering in {place} would deepen without help.",
        "An elderly man wept as he told how he lost his home near {object}.",
        "Doctors in {place} pleaded for blood donors and clean water for the wounded.",
        "The victims' families in {place} asked why nobody had protected them.",
        "Relatives lit candles for the dead in the main square of {place}.",
        "Hundreds of residents of {place} have been left homeless and traumatised.",
    ],
    "security": [
        "{actor} sealed off {place} and said order had been fully restored.",
        "Officials blamed agitators and criminal gangs for the trouble at {object}.",
        "Armed patrols were deployed around {object} to prevent any further threat.",
        "{actor} arrested {number} suspects in overnight raids across {place}.",
        "The minister promised a firm hand against anyone who endangers public order in {place}.",
        "Security forces in {place} set up checkpoints and imposed a curfew.",
        "Intelligence officers believe saboteurs had targeted {object} for weeks.",
        "Police commanders in {place} said the situation was now under control.",
        "Troops guarded the approaches to {object} through the night.",
        "Prosecutors opened a terrorism inquiry into what happened at {object}.",
        "{actor} warned that any disturbance in {place} would be met with force.",
        "Extra riot police were sent to {place} to keep the streets calm.",
    ],
    "economic": [
        "Economists estimate that the losses at {object} will run into millions.",
        "Shares of firms linked to {object} fell sharply on the exchange.",
        "Businesses around {place} counted lost orders and idle workers.",
        "The budget office said the bill for {place} would strain public finances.",
        "Insurers expect {number} claims from companies near {object}.",
        "Suppliers warned that prices would rise once {object} stopped working.",
        "Local traders in {place} reported takings down by half this week.",
        "The finance ministry set aside emergency funds for the economy of {place}.",
        "Investors asked whether {object} could ever be run at a profit again.",
        "Jobs in {place} depend on {object}, and wages are already late.",
        "Exporters fear delays at {object} will cost them their contracts.",
        "The chamber of commerce called {place} a blow to regional growth.",
    ],
}
LEFT_MIX = {"humanitarian": 0.75, "security": 0.15, "economic": 0.10}
RIGHT_MIX = {"humanitarian": 0.15, "security": 0.75, "economic": 0.10}
AGENDA_MIX = {"humanitarian": 0.15, "security": 0.15, "economic": 0.70}
GROUPS = {"L1": "left", "L2": "left", "L3": "left", "R1": "right", "R2": "right", "R3": "right"}
OUTLETS = {"L1": "Lantern Daily", "L2": "People's Courier", "L3": "Valley Ledger",
           "R1": "National Sentinel", "R2": "Order Review", "R3": "Harbour Gazette"}
TITLES = {"humanitarian": "{place}: the people behind the {kind}", "security": "Order restored after {place} {kind}",
          "economic": "What the {place} {kind} will cost"}
START = date(2031, 3, 2)


def draw_frames(mix: dict[str, float], n: int, rng: random.Random) -> list[str]:
    """``n`` frames in the proportions of ``mix`` (rounded, the rest drawn), in random order."""
    frames = [f for f, p in mix.items() for _ in range(int(round(p * n)))][:n]
    while len(frames) < n:
        frames.append(rng.choices(list(mix), weights=list(mix.values()))[0])
    rng.shuffle(frames)
    return frames


# Openings that make each telling of a template its own sentence (reporters do not repeat each other word for word)
OPENINGS = ["", "", "", "By the evening, ", "According to witnesses, ", "On the second day, ", "Later, ",
            "As the news spread, ", "Early on, ", "For now, ", "In the hours that followed, ", "Meanwhile, ",
            "By Wednesday, ", "Overnight, ", "Even so, ", "Once again, "]
# The same place said in other words: not every sentence names the town the same way
PLACE_FORMS = ["{place}", "{place}", "the town of {place}", "the {place} area", "{place} and nearby villages"]


def _lower_first(text: str) -> str:
    return text if text[:1].isupper() and text[1:2].isupper() else text[:1].lower() + text[1:]


def article(event: int, frames: list[str], rng: random.Random) -> tuple[list[str], list[str]]:
    """Sentences and their frames: three of the event's facts (in the order told) among seven framed sentences."""
    place, obj, actor, number, kind, facts = EVENTS[event]
    framed = []
    used: dict[str, set[int]] = {f: set() for f in FRAMES}
    for frame in frames:
        choices = [k for k in range(len(FRAMES[frame])) if k not in used[frame]]
        k = rng.choice(choices)
        used[frame].add(k)
        where = rng.choice(PLACE_FORMS).format(place=place)
        text = FRAMES[frame][k].format(place=where, object=obj, actor=actor, number=number)
        opening = rng.choice(OPENINGS)
        text = opening + (_lower_first(text) if opening else text)
        framed.append((text[0].upper() + text[1:], frame))
    told = []
    for fact in rng.sample(facts, 3):
        opening = rng.choice(OPENINGS)
        told.append(opening + _lower_first(fact) if opening else fact)
    sentences = [(fact, "fact") for fact in told] + framed
    head, rest = sentences[0], sentences[1:]
    rng.shuffle(rest)
    ordered = [head] + rest
    return [s for s, _ in ordered], [f for _, f in ordered]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--shuffle", action="store_true", help="frame mix at random within shared events (the null)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plan = []  # (event, outlet, mix)
    for event in range(6):
        for outlet in ("L1", "L2", "R1", "R2"):
            for _ in range(2):
                mix = LEFT_MIX if GROUPS[outlet] == "left" else RIGHT_MIX
                if args.shuffle:
                    mix = rng.choice([LEFT_MIX, RIGHT_MIX])
                plan.append((event, outlet, mix))
    for event, outlet in ((6, "L3"), (7, "L3"), (8, "R3"), (9, "R3")):
        plan.extend((event, outlet, AGENDA_MIX) for _ in range(3))
    meta_rows, label_rows, truth = [], [], {}
    for k, (event, outlet, mix) in enumerate(plan):
        frames = draw_frames(mix, 7, rng)
        sentences, sentence_frames = article(event, frames, rng)
        place, _, _, _, kind, _ = EVENTS[event]
        leading = max(mix, key=mix.get)
        name = f"{k:03d}-{outlet}-e{event}.txt"
        day = START + timedelta(days=6 * event + rng.randint(0, 2))
        (out / name).write_text(" ".join(sentences) + "\n", encoding="utf-8")
        meta_rows.append({"file": name, "source": OUTLETS[outlet], "group": GROUPS[outlet], "date": day.isoformat(),
                          "title": TITLES[leading].format(place=place, kind=kind), "event": f"event-{event}"})
        label_rows.extend({"unit_id": f"{name}#{k}", "frame": f} for k, f in enumerate(sentence_frames))
        truth[name] = {"event": event, "group": GROUPS[outlet], "frames": sentence_frames}
    with open(out / "metadata.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(meta_rows[0]))
        writer.writeheader()
        writer.writerows(meta_rows)
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["unit_id", "frame"])
        writer.writeheader()
        writer.writerows(label_rows)
    (out / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    print(f"{len(plan)} documents, {len(label_rows)} sentences in {out}")


if __name__ == "__main__":
    main()
