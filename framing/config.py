"""The typed configuration tree: YAML in, dotted ``--set`` overrides, one-line validation errors.

Every section is a pydantic model that forbids unknown keys, so a typo such as ``cluster.min_clustr_size`` fails
with the dotted path and the keys that are allowed there instead of being silently ignored.
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import FramingError

__all__ = ["Config", "load_config", "apply_overrides", "parse_override", "starter_config"]

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def _is_builtin_codebook(name: str) -> bool:
    """A codebook packaged with framing is named, not given as a path (framing/data/codebooks/<name>.yaml)."""
    from importlib import resources

    return "/" not in name and (resources.files("framing") / "data" / "codebooks" / f"{name}.yaml").is_file()


def _path_text(value: str) -> str:
    if "\0" in value:
        raise ValueError("a path cannot contain a NUL character")
    try:
        Path(value).expanduser()
    except RuntimeError:
        raise ValueError(f"{value.split('/')[0]} names no user with a home folder here") from None
    return value


# A file or folder name as typed: text that the operating system can take as a path.
PathText = Annotated[str, AfterValidator(_path_text)]


# hdbscan and numpy take counts as C integers: a larger number is refused here in one line, not met as an
# OverflowError after the embedding. No setting means anything near it (the seed's own bound is this too).
LARGEST_COUNT = 2**32 - 1


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="after")
    @classmethod
    def _fits_a_count(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > LARGEST_COUNT:
            raise ValueError(f"Input should be less than or equal to {LARGEST_COUNT}")
        return value


class RunConfig(_Section):
    name: str = Field("example", min_length=1, max_length=200,
                      description="run name: outputs go to <out_dir>/<name>/ (a plain folder name)")
    # numpy's and UMAP's generators take seeds in [0, 2**32): checked here, not as a traceback after embedding
    seed: int = Field(42, ge=0, lt=2**32,
                      description="seed for UMAP; same corpus, config and seed give the same framings")
    out_dir: PathText = Field("outputs", description="folder that holds one sub-folder per run; a relative one is "
                                                     "taken from the folder you run framing in, not the config's "
                                                     "(unlike corpus.path)")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        # The run folder replaces <out_dir>/<name> whole: "." would be out_dir itself, ".." or "a/b" a folder
        # outside it.
        if name in (".", "..") or any(c in name for c in "/\\\0") or name != name.strip():
            raise ValueError("must be a plain folder name: no / or \\, not . or .., no surrounding spaces")
        return name


def _id_as_text(key: Any) -> Any:
    """A framing id written as a YAML number (``3:``) is the text ``"3"``, as ids typed in quotes are."""
    return str(key) if isinstance(key, int) and not isinstance(key, bool) else key


class CorpusConfig(_Section):
    path: Optional[PathText] = Field(
        None, description="folder of .txt/.md/.html, or a .jsonl/.csv/.parquet file; none: the bundled example")
    glob: list[str] = Field(["*.txt", "*.md", "*.html", "*.htm"],
                            description="file patterns read from a folder (recursively), relative to it")
    exclude: list[str] = Field(["README*", "LICENSE*", "CHANGELOG*"],
                               description="file-name patterns never read as documents")
    text_field: str = Field("text", description=".jsonl/.csv/.parquet: the column holding the text")
    id_field: Optional[str] = Field(
        None, description=".jsonl/.csv/.parquet: a column of stable ids (default: file name + row number)")
    metadata: Optional[PathText] = Field(
        None, description="sidecar CSV keyed by file name; none: metadata.csv or sources.csv in the folder, if any"
    )
    metadata_key: str = Field("file", description="sidecar column holding the file name")
    source_field: str = Field("source", description="outlet, site or author: what the framings are compared across")
    title_field: str = Field("title", description="the column (or sidecar column) holding the title")
    date_field: str = Field("date", description="the column holding the date")
    url_field: str = Field("url", description="the column holding the link")
    event_field: Optional[str] = Field(
        None, description="a metadata column naming each document's event (the story it tells); none: events are "
                          "found from the documents' content and dates (events section)")
    follow_links: bool = Field(False, description="read files and folders that symbolic links in the corpus folder "
                                                  "point to outside it (false: skipped, with a warning naming them)")

    @field_validator("glob")
    @classmethod
    def _relative_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not pattern or pattern.startswith(("/", "\\")) or "\0" in pattern or ".." in Path(pattern).parts:
                raise ValueError(f"each pattern names files inside the corpus folder (like *.txt or news/*.html), "
                                 f"got {pattern[:60]!r}")
        return patterns


class UnitsConfig(_Section):
    kind: Literal["sentences", "paragraphs", "windows"] = Field(
        "sentences", description="sentences | paragraphs | windows (of sentences)")
    min_words: int = Field(4, ge=1, description="shorter units are dropped")
    window: int = Field(3, ge=1, description="sentences per window (kind: windows)")
    stride: Optional[int] = Field(None, ge=1, description="sentences between window starts; none: window")
    detect_sections: bool = Field(True, description="label lines body / comments / boilerplate; drop bylines")
    sections: list[Literal["body", "comments", "boilerplate"]] = Field(
        ["body", "comments"], min_length=1, description="sections that are analysed"
    )
    deduplicate: bool = Field(True, description="embed, cluster and count each duplicate group once")
    near_duplicates: Optional[float] = Field(
        0.8, gt=0.0, le=1.0,
        description="word-trigram Jaccard at which two units are one duplicate group; null: exact matches only",
    )
    repost_share: float = Field(0.5, gt=0.0, le=1.0,
                                description="share of a document's units copied from one earlier document "
                                            "that makes it a repost")


class EmbeddingConfig(_Section):
    model: PathText = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model name or local path; the default is packaged and works offline",
    )
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "torch",
        description="torch: sentence-transformers; onnx: the model exported to ONNX Runtime (same vectors); "
                    "onnx-int8: quantised, faster, vectors agree less (both need pip install 'framing[onnx]')",
    )
    device: str = Field("cpu", description="cpu, cuda, cuda:0, mps ... (torch only)")
    cache_dir: Optional[PathText] = Field(
        "~/.cache/framing",
        description="cache folder for vectors, ONNX exports and UMAP results; null disables the cache",
    )


class ReduceConfig(_Section):
    n_components: int = Field(5, ge=2, description="dimensions of the UMAP clustering space")
    n_neighbors: int = Field(15, ge=2, description="UMAP neighbours: larger sees broader structure")
    min_dist: float = Field(0.0, ge=0.0, le=1.0, description="min_dist of the clustering space")
    map_min_dist: float = Field(0.1, ge=0.0, le=1.0, description="min_dist of the 2-d map")
    metric: Literal["cosine", "euclidean"] = Field("cosine", description="cosine | euclidean")
    n_jobs: int = Field(2, ge=1, le=2, description="2: the clustering space and the map are laid out in two "
                                                    "processes (from 20,000 units; same result as 1)")
    cache: bool = Field(True, description="keep UMAP results in embedding.cache_dir: a re-run with other "
                                          "cluster or describe settings skips UMAP")
    fit_sample: Optional[int] = Field(
        100000, ge=16,
        description="fit the neighbour graph, UMAP and HDBSCAN on at most this many distinct units, drawn within "
                    "sources, and place the rest by their nearest sampled units (bounded time and memory at "
                    "millions of units); null: fit on all")


class ClusterConfig(_Section):
    min_cluster_size: int = Field(8, ge=2, description="the fewest distinct units a framing has")
    min_samples: Optional[int] = Field(None, ge=1, description="none: min_cluster_size")
    # leaf, not HDBSCAN's usual eom: a framing corpus is usually one story, and eom then returns one or two
    # clusters that are the story itself; leaf returns the recurring ways of telling it.
    selection_method: Literal["eom", "leaf"] = Field(
        "leaf", description="leaf (fine framings) | eom (HDBSCAN's default: fewer, broader clusters)")
    selection_epsilon: float = Field(0.0, ge=0.0, description="HDBSCAN: merge clusters closer than this")
    # vote, measured: ARI to the full fit (bench/sample_fit.py, 100k units) 0.542 vs hdbscan's 0.557 (20k sample)
    # and 0.702 vs 0.709 (50k), a full fit with another seed scoring 0.821; at a million units hdbscan's
    # approximate_predict (a Python loop per unit) took 40 s of the 76 s that placing took, vote under a second.
    assign: Literal["vote", "hdbscan"] = Field(
        "vote", description="how units outside reduce.fit_sample get their framing: hdbscan "
                               "(approximate_predict at their placed position) | vote (their nearest sampled units' "
                               "framings, weighted as UMAP weighs neighbours)")
    # 0.3, measured (bench/unassigned.py): on all four hand-coded sets it takes coverage from about half the units
    # to 95% and raises agreement with the coded frames over the whole corpus (AMI with unassigned as a cluster).
    # 0 (off), measured (bench/stability.py): 10 re-clusterings raised the agreement between full runs with other
    # seeds from ARI 0.561 to 0.595 on the example and left it at 0.620 -> 0.617 on aleppo; AMI with the coded frames
    # rose by 0.004-0.014: too little for its cost to be the default.
    consensus: int = Field(0, ge=0, le=100, description="0: the framings are HDBSCAN's; N: a consensus of HDBSCAN's "
                                                        "clustering and N re-clusterings of document subsamples "
                                                        "(units kept together when most clusterings agree)")
    consensus_fraction: float = Field(0.8, gt=0.0, le=1.0,
                                      description="share of the documents each consensus re-clustering keeps")
    within_events: bool = Field(False, description="cluster units after subtracting their event's centre, so that "
                                                   "framings recur across events instead of being the events (needs "
                                                   "events)")
    reassign_threshold: Optional[float] = Field(
        0.3, ge=-1.0, le=1.0,
        description="give unassigned units to the nearest framing when their cosine to its centre is at least "
                    "this; null: HDBSCAN's outliers stay unassigned",
    )


class StabilityConfig(_Section):
    """How each framing's stability is measured (framing.framings.stability): re-clustering document subsamples.

    Measured (bench/stability.py, the example and the aleppo pages, 27 framings): against what ten full re-runs
    with other seeds and 90% of the documents did to each framing, the default score ranks framings with Spearman's
    rho 0.52-0.68 (three bench runs), 5 runs as well as 10; re-laying each subsample out with UMAP (reduce) ranked
    them no better (0.50-0.69) at 60-100 times the cost.
    """

    runs: int = Field(5, ge=0, le=100, description="re-clusterings of document subsamples that each framing is "
                                                   "matched against; 0: no stability scores")
    fraction: float = Field(0.8, gt=0.0, le=1.0, description="share of the documents each re-clustering keeps")
    reduce: bool = Field(False, description="true: every re-clustering also lays its subsample out with UMAP from "
                                            "another seed (60-100 times slower; measured no better at predicting "
                                            "what a re-run moves)")
    # 0.7, measured: the score that best told the framings that full re-runs kept (median Jaccard >= 0.5) from those
    # they lost (balanced accuracy 0.77-0.78 against 0.63 for calling every framing stable)
    threshold: float = Field(0.7, ge=0.0, le=1.0, description="framings whose stability is below this are marked "
                                                              "unstable in the summary and the report")
    # 40,000, measured at 100k units: 5 re-clusterings of a third of the documents cost 2.4 s, 16% of a cached run
    max_units: int = Field(40000, ge=100, description="re-cluster at most this many fitted units per run (fewer "
                                                      "documents drawn): bounds the cost on large corpora")


class DescribeConfig(_Section):
    n_terms: int = Field(10, ge=1, description="distinctive terms per framing (class-based TF-IDF)")
    n_exemplars: int = Field(5, ge=1, le=50, description="passages nearest each framing's centre")
    naming: Literal["phrases", "keyphrases", "terms"] = Field(
        "phrases", description="phrases: the name is a phrase quoted from the framing's most central passages (and "
                               "a second sharing no word with it), for its distinctive terms and closeness to the "
                               "centre; parents by a phrase their framings share | keyphrases: distinctive n-grams "
                               "chosen by maximal marginal relevance to the centre | terms: the top distinctive terms")
    label_terms: int = Field(3, ge=1, description="key phrases (or terms) joined into the label (keyphrases, terms)")
    phrase_parts: int = Field(2, ge=1, le=3, description="phrases naming: at most this many phrases, sharing no word, "
                                                         "in a name")
    phrase_passages: int = Field(20, ge=2, le=200, description="phrases naming: the central passages per framing "
                                                              "that phrases are quoted from")
    candidates: int = Field(20, ge=1, description="distinctive n-grams per framing that key phrases are chosen from")
    # 0.3, measured (bench/names.py): the best of 0, 0.3, 0.5 and 0.7 at naming each framing so that its label is
    # nearest its own centre (example 12/12, aleppo 14/15 framings; as many as the term triplets)
    diversity: float = Field(0.3, ge=0.0, le=1.0,
                             description="maximal marginal relevance: 0 picks the phrases nearest the centre, 1 the "
                                         "most different from each other")
    ngram_max: int = Field(2, ge=1, le=3, description="longest n-gram among the distinctive terms and phrases")
    caption_words: int = Field(25, ge=3, description="the caption is the most central passage of at most this many "
                                                     "words")
    # keys as YAML gives them: {3: ...} is a framing id (an int), {"doc.txt#4": ...} a unit id
    names: dict[Annotated[str, BeforeValidator(_id_as_text)], str] = Field(
        default_factory=dict, description="names for framings, by framing id or by a unit id (the framing that "
                                          "unit is in), e.g. {3: Liberation from terrorists}; they win over key "
                                          "phrases and carry over to re-runs")
    match_run: Optional[str] = Field(
        "auto", description="an earlier run folder whose framing ids, names and colours carry over to the framings "
                            "that match them; auto: the run folder this run replaces (--out), if any; null: none")
    # 0.7, measured (bench/matching.py): over 83 Hungarian pairs from re-runs of the example and aleppo with other
    # min_cluster_size values and seeds, the pairs that share most units had cosines of 0.754 and above, the
    # others 0.664 and below; 0.7 told all of them apart.
    match_threshold: float = Field(
        0.7, ge=-1.0, le=1.0, description="the least cosine between two framings' centres for them to match")


class HierarchyConfig(_Section):
    enabled: bool = Field(True, description="a tree of broader framings above the framings (hierarchy.json, the "
                                            "report's tree)")
    # centroids, measured (bench/hierarchy.py, level 1 against the four hand-coded sets): its parents beat random
    # groupings of the framings on all four (AMI +0.016 to +0.035 over chance), the condensed tree's on two (+0.04
    # on the example's, -0.010 to +0.001 on aleppo's).
    method: Literal["centroids", "condensed"] = Field(
        "centroids", description="centroids: average-linkage merging of the framings' centres | condensed: "
                                 "HDBSCAN's condensed tree")
    level: int = Field(0, ge=0, description="the level that contrast and time compare, and the report opens at: "
                                            "0 the framings, 1 their parents, 2 the parents' parents...")


class AxisConfig(_Section):
    name: str = Field(min_length=1)
    negative: list[str] = Field(min_length=1, description="words or phrases of the negative pole")
    positive: list[str] = Field(min_length=1, description="words or phrases of the positive pole")


class ContrastConfig(_Section):
    enabled: bool = Field(True, description="compare sources (or groups of sources)")
    groups: Optional[dict[str, list[str]]] = Field(
        None, description="group name -> list of sources; default: every source on its own")
    group_by: Optional[str] = Field(
        None, description="group by a metadata field (e.g. leaning) or by 'section' (body vs comments)")
    pairs: Optional[list[list[str]]] = Field(None, description="pairs of groups to contrast; default: every pair")
    members: Literal["all", "core"] = Field(
        "all", description="which framing members the shares, tests, words and shares over time count: all (core and "
                           "attached) or core (HDBSCAN's own members; attached units match their framing's coded "
                           "majority frame about two thirds as often, twice as often as chance: bench/membership.py)")
    # The resampled shares are held until their percentiles are taken: 10,000 draws x 2,800 framings is 224 MB
    # (bench/edge_runs.py found a run with 2**31 draws taking all of a machine's memory)
    bootstrap: int = Field(1000, ge=0, le=10_000,
                           description="bootstrap resamples of documents for the intervals (at most 10,000)")
    permutations: int = Field(1000, ge=0, le=100_000,
                              description="permutations for the tests (at most 100,000: p-values to 0.00001)")
    min_units: int = Field(5, ge=1, description="units each group needs in a framing to contrast them there")
    top_words: int = Field(15, ge=1, description="contrast words per side, framing and pair")
    axes: list[AxisConfig] = Field(default_factory=list, description="semantic axes between two poles")

    @model_validator(mode="after")
    def _one_grouping(self) -> "ContrastConfig":
        if self.groups and self.group_by:
            raise ValueError("set contrast.groups or contrast.group_by, not both")
        for pair in self.pairs or []:
            if len(pair) != 2 or pair[0] == pair[1]:
                raise ValueError(f"each of contrast.pairs names two different groups, got {pair}")
        return self


class FramesConfig(_Section):
    codebook: Optional[PathText] = Field(
        None, description="policy-frames, conflict, or a YAML file of frames: every unit gets one frame")
    labels: Optional[PathText] = Field(
        None, description="CSV of hand labels (unit_id, doc_id or text; and frame): frames are then learned from "
                          "them by a classifier and cross-validated; without: zero-shot from the codebook")
    folds: int = Field(5, ge=2, le=20, description="cross-validation folds over the labelled units")
    regularization: float = Field(10.0, gt=0.0, description="C of the logistic regression (smaller: simpler)")


class EngineConfig(_Section):
    name: Literal["local", "ray"] = Field(
        "local", description="where segmenting, embedding and placing run: local (this machine) | ray (a Ray "
                             "cluster, with Ray Data; pip install 'framing[ray]')")
    processes: int = Field(2, ge=1, description="local: worker processes (at most the machine's cores) that "
                                                "segment a corpus over 20 M characters and place over 200k "
                                                "unsampled units; 1: all in this process")
    address: Optional[str] = Field(
        None, description="ray: the cluster to join (auto, or ray://HOST:10001); null: RAY_ADDRESS when set, "
                          "else a Ray started on this machine for the run")
    num_cpus: Optional[int] = Field(None, ge=1, description="ray on this machine: CPUs it may use; null: all")
    actors: int = Field(2, ge=1, description="ray: embedding actors, each holding one copy of the model")
    cpus_per_actor: float = Field(1.0, gt=0.0, description="ray: CPUs reserved per embedding actor")
    gpus_per_actor: float = Field(0.0, ge=0.0, description="ray: GPUs per embedding actor; above 0 the model "
                                                           "runs on cuda")
    block_texts: int = Field(4096, ge=1, description="ray: texts per block an actor embeds at a time")
    block_documents: int = Field(256, ge=1, description="ray: documents per block segmented at a time")
    block_files: int = Field(64, ge=1, description="ray: input files (pages or shards) per block read at a time")


class EventsConfig(_Section):
    """Which documents tell the same story (framing.events.detect): the contrast compares groups within events."""

    enabled: Optional[bool] = Field(None, description="null: on when the corpus has at least two sources; true | "
                                                      "false")
    # 0.6 and 3 days, measured (bench/events.py, bench/RESULTS.md "Events"): the best of 0.4-0.8 x no dates, 3, 7,
    # 10, 14 days on the two corpora with known events (AMI 1.000 on the written event corpus, 0.871 on the
    # example's hand-labelled events; without dates the example's best was 0.336)
    threshold: float = Field(0.6, ge=-1.0, le=1.0,
                             description="found events: documents join while the average cosine between their mean "
                                         "unit vectors is at least this")
    window_days: Optional[float] = Field(
        3.0, ge=0.0, description="found events: documents further apart in time than this never join directly "
                                 "(undated documents are never apart); null: dates are not used")


class TimeConfig(_Section):
    enabled: bool = Field(True, description="shares of each framing (and frame) per time bin, from the documents' "
                                            "dates, overall and per contrast group: contrast_time.csv")
    bin: Literal["auto", "day", "week", "month"] = Field(
        "auto", description="auto: days for a corpus spanning up to 31 days, weeks up to 26 weeks, else months")
    dayfirst: bool = Field(False, description="read 03/04/2016 as 3 April (true) or March 4 (false)")
    bootstrap: int = Field(200, ge=0, le=10_000,
                           description="resamples of each bin's documents for the 95% intervals (at most 10,000)")


class ReportConfig(_Section):
    enabled: bool = Field(True, description="write report.html")
    max_points: int = Field(
        100000, ge=100, description="the map draws at most this many distinct units (exemplars first, then a "
                                     "seeded sample); every unit stays reachable by search, cards and the table")
    max_text_mb: float = Field(
        40.0, gt=0.0, description="documents holding more text than this (in millions of characters) make a page "
                                  "without it, opened with `framing serve RUN_DIR`, which sends passages on demand")


class Config(_Section):
    """The whole configuration of a run. ``Config()`` is the default; ``load_config`` reads YAML."""

    run: RunConfig = Field(default_factory=RunConfig)
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    units: UnitsConfig = Field(default_factory=UnitsConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    reduce: ReduceConfig = Field(default_factory=ReduceConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    stability: StabilityConfig = Field(default_factory=StabilityConfig)
    describe: DescribeConfig = Field(default_factory=DescribeConfig)
    hierarchy: HierarchyConfig = Field(default_factory=HierarchyConfig)
    frames: FramesConfig = Field(default_factory=FramesConfig)
    contrast: ContrastConfig = Field(default_factory=ContrastConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    time: TimeConfig = Field(default_factory=TimeConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)

    @model_validator(mode="after")
    def _consensus_fits(self) -> "Config":
        # a consensus partition is not one of HDBSCAN's: it has no node in the condensed tree, and
        # approximate_predict would place units by HDBSCAN's own clusters
        if self.cluster.consensus and self.hierarchy.enabled and self.hierarchy.method == "condensed":
            raise ValueError("cluster.consensus needs hierarchy.method: centroids (a consensus framing has no node "
                             "in HDBSCAN's condensed tree)")
        if self.cluster.consensus and self.cluster.assign == "hdbscan":
            raise ValueError("cluster.consensus needs cluster.assign: vote (approximate_predict places units by "
                             "HDBSCAN's own clusters, not the consensus)")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "config") -> "Config":
        """Validate a nested dict; errors name the dotted path, the problem and the allowed values."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise FramingError(_describe_error(exc, data, origin)) from None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class _ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader without aliases: ``*name`` can expand a few lines into billions of nodes (an alias
    bomb), and a config has no need of them."""

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a config",
                                              event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML's signature
        # YAML lets the last of two equal keys win, so a section written twice lost the first one's keys unseen
        first_line: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in first_line:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {_short(key, 40)} is given twice (first on line {first_line[key] + 1})",
                        key_node.start_mark)
                first_line[key] = key_node.start_mark.line
            except TypeError:  # an unhashable key: the base class reports it
                continue
        return super().construct_mapping(node, deep)


def _parse_yaml(text: str):
    """Parse YAML text with ``_ConfigLoader``; ``RecursionError`` for absurdly deep nesting is the caller's."""
    return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters: an error message quotes a value, it never dumps it."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 4
    shortener.maxlevel = 2
    text = shortener.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Keys that moved to another section: the error says where, instead of only "unknown key".
_MOVED = {("contrast", "codebook"): "frames.codebook"}
# Keys taken out, and why: a config that still sets one is told so.
_REMOVED = {("embedding", "batch_size"): "forward passes have fixed shapes, so that a text's vector does not "
                                         "depend on its batch (README: reproducible vectors); remove it"}


def _key_text(key: Any) -> str:
    """A config key as a message shows it: as typed when short and printable, else a short escaped repr."""
    text = str(key)
    if not text.isprintable():
        return _short(text, 40)
    return text if len(text) <= 40 else text[:39] + "…"


def _allowed_keys(model: type[BaseModel], path: tuple) -> list[str]:
    for key in path:
        field = model.model_fields.get(str(key))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return []
        model = field.annotation
    return list(model.model_fields)


def _describe_error(exc: ValidationError, data: dict[str, Any], origin: str) -> str:
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    dotted = ".".join(_key_text(part) for part in loc)
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if error["type"] == "extra_forbidden":
        if tuple(map(str, loc)) in _MOVED:
            return f"{origin}: {dotted} is now {_MOVED[tuple(map(str, loc))]}{more}"
        if tuple(map(str, loc)) in _REMOVED:
            return f"{origin}: {dotted} was removed: {_REMOVED[tuple(map(str, loc))]}{more}"
        allowed = _allowed_keys(Config, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1])[:100], allowed, n=1)
        hint = f"; did you mean {'.'.join([*map(str, loc[:-1]), close[0]])}?" if close else ""
        owners = [name for name in Config.model_fields if len(loc) == 1 and str(loc[0]) in _allowed_keys(Config, (name,))]
        if owners:  # a key given without its section (analyze(..., min_cluster_size=10)): name it in full
            hint = (f"; did you mean {owners[0]}.{loc[0]} (a keyword argument: {owners[0]}__{loc[0]}, --set "
                    f"{owners[0]}.{loc[0]}=...)?")
        return f"{origin}: unknown key {dotted}{hint} (allowed here: {', '.join(allowed)}){more}"
    if error["type"] == "model_type":
        return f"{origin}: {dotted} must be a mapping of keys (allowed: {', '.join(_allowed_keys(Config, loc))}){more}"
    given = error.get("input")
    message = error["msg"].removeprefix("Value error, ")  # pydantic's prefix for a validator's own ValueError
    return f"{origin}: {dotted}: {message} (got {_short(given)}){more}"


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"cluster.min_cluster_size=12"`` → ``(["cluster", "min_cluster_size"], 12)``; values are YAML scalars."""
    if "=" not in item:
        raise FramingError(f"--set expects key=value, got {_short(item)}")
    key, raw = item.split("=", 1)
    path = [part for part in key.strip().split(".")]
    if not all(path):
        raise FramingError(f"--set key {_short(key)} is not a dotted path like cluster.min_cluster_size")
    try:
        value = _parse_yaml(raw) if raw.strip() else None
    except (yaml.YAMLError, RecursionError):
        value = raw
    return path, value


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any] | list[str] | None) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted overrides applied.

    ``overrides`` is either a list of ``key=value`` strings (CLI) or a dict whose keys are dotted paths or
    ``section__key`` names (API keyword arguments such as ``cluster__min_cluster_size=12``).
    """
    data = copy.deepcopy(data)
    if not overrides:
        return data
    if isinstance(overrides, dict):
        items = [(key.replace("__", ".").split("."), value) for key, value in overrides.items()]
    else:
        items = [parse_override(item) for item in overrides]
    for path, value in items:
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise FramingError(f"cannot set {'.'.join(path)}: {part} is not a section")
            node = child
        node[path[-1]] = value
    return data


# A config is a few kilobytes; a file far larger is not one (and would only make the parser work for nothing).
_MAX_CONFIG_BYTES = 1 << 20


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML config file; every problem with the file is a one-line ``FramingError``."""
    path = Path(path)
    if path.is_dir():
        raise FramingError(f"config path {path} is a folder, not a YAML file")
    if not path.is_file():
        raise FramingError(f"config file not found: {path}")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise FramingError(f"cannot read config file {path}: {exc.strerror}") from None
    if len(raw) > _MAX_CONFIG_BYTES:
        raise FramingError(f"{path} is larger than 1 MB; a config is a short YAML file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FramingError(f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the config "
                           "as UTF-8") from None
    try:
        data = _parse_yaml(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FramingError(f"{path}:{where} is not valid YAML ({problem})") from None
    except RecursionError:
        raise FramingError(f"{path}: nested too deeply to be a config") from None
    if not isinstance(data, dict):
        raise FramingError(f"{path}: the top level must be a mapping of sections (run, corpus, units, ...)")
    if not all(isinstance(key, str) for key in data):
        raise FramingError(f"{path}: section names must be text, got {_short(next(k for k in data if not isinstance(k, str)))}")
    return data


def _expand(path: str) -> Path:
    try:
        return Path(path).expanduser()
    except RuntimeError:  # "~someone" who has no home here: the path stays as written
        return Path(path)


def load_config(
    path: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
) -> Config:
    """Read a YAML config (or start from the defaults), apply overrides, validate.

    A relative ``corpus.path``, ``corpus.metadata``, ``frames.labels`` or ``frames.codebook`` written in the file
    is taken relative to the file's
    folder, so a config and its corpus can move together; paths given as overrides (``--set``) are relative
    to the current directory, like any path typed on a command line. ``run.out_dir`` is always relative to
    the current directory.
    """
    data = read_config_file(path) if path is not None else {}
    for section, key in (("corpus", "path"), ("corpus", "metadata"), ("frames", "labels"), ("frames", "codebook")):
        block = data.get(section)
        value = block.get(key) if path is not None and isinstance(block, dict) else None
        if (isinstance(value, str) and value and "\0" not in value and not _expand(value).is_absolute()
                and not (key == "codebook" and _is_builtin_codebook(value))):
            block[key] = str((Path(path).parent / value).resolve())
    data = apply_overrides(data, overrides)
    return Config.from_dict(data, origin=str(path) if path is not None else "config")


# What each section is for, beside its name in the starter config; its keys, defaults and descriptions come from
# the fields themselves.
_SECTION_NOTES = {
    "corpus": "what is read", "units": "how documents are cut", "embedding": "sentence-transformers",
    "reduce": "UMAP", "cluster": "HDBSCAN", "describe": "terms, exemplars and labels of each framing",
    "frames": "every unit gets one frame of a codebook", "contrast": "how sources tell the same events differently",
}
_COMMENT_COLUMN = 30


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def starter_config(config_path: str, run_name: str = "my-run") -> str:
    """The commented starter config that ``framing init`` writes: every key of every section with its default and
    its description, read from the config's own fields (so it can never disagree with them)."""
    defaults = Config().to_dict()
    shown = {("run", "name"): run_name, ("corpus", "path"): "corpus"}
    lines = ["# framing run configuration. Every key is optional; the values shown are the defaults.",
             f"# Run it with:  framing run {config_path}   (override any key: --set cluster.min_cluster_size=12)"]
    for section, section_field in Config.model_fields.items():
        note = _SECTION_NOTES.get(section)
        lines += ["", f"{section}:" + (f"  # {note}" if note else "")]
        for key, field in section_field.annotation.model_fields.items():
            entry = f"  {key}: {_yaml_value(shown.get((section, key), defaults[section][key]))}"
            lines.append(f"{entry.ljust(_COMMENT_COLUMN)}  # {field.description}" if field.description else entry)
    return "\n".join(lines) + "\n"
