"""The ``framing`` command: ``framing run [CONFIG]``, ``framing init DIR``.

User errors end in one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Sequence

from . import __version__
from .errors import FramingError
from .framings.partition import UNASSIGNED

log = logging.getLogger("framing")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, like every other user error
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole_number(low: int, high: int | None = None):
    """An argparse type: an int in [low, high], refused in the parser's one line otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{value} is out of range: give a number {bound}")
        return value

    return parse


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="framing", description="Find how sources frame the same events differently.")
    parser.add_argument("--version", action="version", version=f"framing {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="analyse a corpus and write outputs/<run>/")
    run.add_argument("config", nargs="?", help="YAML config (default: the bundled example corpus)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config key, e.g. --set cluster.min_cluster_size=12 (repeatable)")
    run.add_argument("--out", help="write the run folder here instead of <run.out_dir>/<run.name>")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    run.add_argument("--save-model", metavar="DIR",
                     help="also save the fitted model here, to place other corpora into the same framings "
                          "(framing apply)")

    apply = commands.add_parser("apply", help="place a corpus into a saved model's framings and frames (nothing is "
                                              "fitted again) and write a run folder")
    apply.add_argument("model_dir", help="a model folder written by framing run --save-model")
    apply.add_argument("corpus", help="the corpus to place: a folder, or a .jsonl/.csv/.parquet file")
    apply.add_argument("--out", required=True, help="the run folder to write")
    apply.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting that does not touch the fitted framings, e.g. --set "
                            "contrast.group_by=leaning (repeatable)")
    apply.add_argument("--no-progress", action="store_true", help="hide progress bars")

    report = commands.add_parser("report", help="rebuild the report of a saved run (nothing is embedded again)")
    report.add_argument("run_dir", help="a run folder written by framing run")
    report.add_argument("--out", help="write the page here instead of RUN_DIR/report.html")

    contrast = commands.add_parser("contrast", help="how two groups of a saved run tell the same framings differently")
    contrast.add_argument("run_dir", help="a run folder written by framing run")
    contrast.add_argument("groups", nargs="*", metavar="GROUP", help="two groups (or sources) to compare; none: list them")
    contrast.add_argument("--framing", type=int, help="only this framing")
    contrast.add_argument("--words", type=_whole_number(1), default=8, help="contrast words per side (default 8)")
    contrast.add_argument("--group-by", metavar="FIELD",
                          help="compare groups of another metadata field (or source, or section), from the saved "
                               "units: nothing is embedded or clustered again")
    contrast.add_argument("--within-events", action="store_true",
                          help="compare the groups within events: how they tell the stories both covered, apart "
                               "from which stories they chose")
    contrast.add_argument("--by", choices=("framings", "frames"), default="framings",
                          help="compare the framings (default) or the codebook's frames")
    contrast.add_argument("--level", type=_whole_number(0), metavar="N",
                          help="compare the broader framings of level N of the tree (1: the framings' parents), "
                               "from the saved units")

    evaluate = commands.add_parser("evaluate", help="score a saved run against gold labels coded by hand")
    evaluate.add_argument("run_dir", help="a run folder written by framing run")
    evaluate.add_argument("gold", help="CSV: unit_id, doc_id or text, and frame (or label)")
    evaluate.add_argument("--permutations", type=_whole_number(0, 100_000), default=100,
                          help="random partitions behind the baseline figures (default 100, at most 100,000 as "
                               "contrast.permutations)")

    serve = commands.add_parser("serve", help="open a saved run's report with its passages served on demand "
                                              "(for runs too large for one file; local and read-only)")
    serve.add_argument("run_dir", help="a run folder written by framing run")
    serve.add_argument("--port", type=_whole_number(0, 65535), default=8765, help="port on 127.0.0.1 (default 8765; 0: any free one)")

    init = commands.add_parser("init", help="write a commented starter config into DIR")
    init.add_argument("dir", help="folder for config.yaml (created if missing)")
    return parser


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("framing: %(levelname)s: %(message)s"))
    root = logging.getLogger("framing")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.captureWarnings(True)
    if verbosity < 2:
        # Third-party chatter (model loading, numba) is noise unless debugging.
        for name in ("sentence_transformers", "transformers", "numba", "py.warnings"):
            logging.getLogger(name).setLevel(logging.ERROR)


def _cmd_run(args: argparse.Namespace) -> int:
    from .config import load_config
    from .run.pipeline import run

    config = load_config(args.config, args.overrides)
    started = time.perf_counter()
    keep: dict | None = None
    if args.save_model:
        from .run.framer import Framer, check_model_target

        check_model_target(args.save_model)  # before any work
        keep = {}
    result, target = run(config, out=args.out, progress=False if args.no_progress else None, keep=keep)
    if args.save_model:
        framer = Framer(config)
        framer.keep(config, result, keep)
        print(f"model: {framer.save(args.save_model).resolve()}", file=sys.stderr)
    from .memory import peak_memory_mb

    print(run_summary(result.manifest, time.perf_counter() - started, peak_memory_mb()["process"]), file=sys.stderr)
    gaps = result.frame_gaps  # the report says this beside its labelling panel; the terminal says it too
    if gaps["without_labels"] or gaps["untested"]:
        print(f"frames: {len(gaps['without_labels'])} without labels ({', '.join(gaps['without_labels']) or '-'}), "
              f"{len(gaps['untested'])} too few to test ({', '.join(gaps['untested']) or '-'}); label more to learn "
              "and check them (frames.labels)", file=sys.stderr)
    report = target / "report.html"
    print(f"report: {report.resolve()}" if report.exists() else f"run folder: {target.resolve()}")
    return 0


def _cmd_apply(args: argparse.Namespace) -> int:
    from .config import parse_override
    from .run.framer import Framer
    from .run.pipeline import run

    overrides = {".".join(path): value for path, value in map(parse_override, args.overrides)}
    overrides["corpus.path"] = str(Path(args.corpus).resolve())
    framer = Framer.load(args.model_dir, **overrides)
    started = time.perf_counter()
    result, target = run(framer.config_, out=args.out, progress=False if args.no_progress else None,
                         fitted=framer.state_)
    from .memory import peak_memory_mb

    print(run_summary(result.manifest, time.perf_counter() - started, peak_memory_mb()["process"]), file=sys.stderr)
    report = target / "report.html"
    print(f"report: {report.resolve()}" if report.exists() else f"run folder: {target.resolve()}")
    return 0


def run_summary(manifest: dict, seconds: float, final_peak_mb: float | None = None) -> str:
    """The closing lines of ``framing run``: what was found, and where the time and memory went.

    ``final_peak_mb``: the process's peak after the run folder was written; ``run.json``, written before that
    ends, cannot hold it (at a million units writing added ~160 MB to the peak)."""
    counts, embedding = manifest["counts"], manifest["embedding"]
    distinct = max(counts.get("distinct_units") or 1, 1)
    share = counts["unassigned"] / distinct
    fitted = counts.get("fitted", distinct)
    applied = manifest.get("applied")
    if applied:  # framing apply: nothing was fitted (its count of fitted units is 0)
        sample = (f"; all placed into the saved model's {applied['framings']:,} framings (fitted on "
                  f"{applied['fitted_units']:,} units), nothing fitted again")
    elif fitted < distinct:
        sample = f"; fitted on a sample of {fitted:,}, the other {distinct - fitted:,} placed by their neighbours"
    else:
        sample = ""
    stages = " · ".join(f"{name} {value:.1f} s" for name, value in manifest["seconds"].items())
    memory = manifest.get("peak_memory_mb", {})
    per_stage = manifest.get("memory_mb", {})
    # The stage that set the peak: the first whose end saw it (ru_maxrss only grows).
    peak_stage = next((name for name, m in per_stage.items() if m.get("peak") == memory.get("process")), None)
    where = f" (reached in the {peak_stage} stage)" if peak_stage else ""
    peak = memory.get("process", 0)
    if final_peak_mb is not None and final_peak_mb > peak + 0.5:
        peak, where = final_peak_mb, " (reached while writing the run folder)"
    if memory.get("anonymous"):  # without the mapped vectors and libraries: what a larger corpus must fit
        anonymous_stage = max(per_stage, key=lambda name: per_stage[name].get("anonymous_peak") or 0)
        where += f"; anonymous memory at most {memory['anonymous']:,.0f} MB (in the {anonymous_stage} stage)"
    matching = manifest.get("matching")
    carried = ""
    if matching:
        tally = ", ".join(f"{n} {status}" for status, n in matching["counts"].items() if n)
        carried = f"\nframings matched to the earlier run in {matching['run']}: {tally or 'none'} (run.json: matching)"
    stability = manifest.get("stability")
    stable = ""
    if stability:
        unstable = stability["unstable"]
        ari = "n/a" if stability["mean_ari"] is None else f"{stability['mean_ari']:.2f}"
        stable = (f"\nstability: mean ARI {ari} between {stability['runs']} re-clusterings of "
                  f"{stability['fraction']:.0%} of the documents; {len(unstable)} of {counts['framings']} framings "
                  f"unstable (below {stability['threshold']}): {_id_list(unstable)}")
    within = manifest.get("contrast", {}).get("within_events")
    if manifest.get("events"):
        events = manifest["events"]
        stable += (f"\nevents: {events['events']:,} ({events['method']}; {events['alone']:,} of one document)"
                   + (f"; within events, framing depends on group? permutation p = {within['test']['p_value']} over "
                      f"{_count(within['test']['events'], 'event')} told by two or more groups" if within else ""))
        for part in (within or {}).get("agenda_framing", [])[:3]:
            stable += (f"\n  {part['group_a']} vs {part['group_b']}: difference {part['total']['value']:.3f}; agenda "
                       f"{part['agenda']['value']:.3f}, framing {part['framing']['value']:.3f} (total variation; "
                       "framing contrast RUN A B --within-events)")
    return (f"{counts['documents']:,} documents, {counts['units']:,} units ({distinct:,} distinct), "
            f"{counts['framings']:,} framings, {counts['unassigned']:,} unassigned ({share:.0%} of distinct units; "
            f"{counts.get('reassigned', 0):,} reassigned by cluster.reassign_threshold){sample}; "
            f"{embedding['computed']:,} embedded, {embedding['cached']:,} from cache\n"
            f"{seconds:.1f} s in all: {stages}; peak memory {peak:,.0f} MB{where}{carried}{stable}")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _id_list(ids: list[int], shown: int = 12) -> str:
    """Framing ids for a line of the summary: the first ``shown``, then how many more (framings.json has them)."""
    if not ids:
        return "none"
    more = f" and {len(ids) - shown} more (framings.json: stability)" if len(ids) > shown else ""
    return ", ".join(map(str, ids[:shown])) + more


def _cmd_report(args: argparse.Namespace) -> int:
    from .store.outputs import check_file_target, write_file_atomically
    from .report import is_framing_report, write_report
    from .store.result import REPORT_FILE, load_result

    target = Path(args.out) if args.out else Path(args.run_dir) / REPORT_FILE
    if target.is_dir():  # the page's name is the likely fix: say it
        raise FramingError(f"--out {target} is a folder; give the page's file name, e.g. {target / REPORT_FILE}")
    check_file_target(target, is_framing_report)  # before the run is loaded: fail fast
    result = load_result(args.run_dir)
    write_file_atomically(target, lambda path: write_report(result, path), replaceable=is_framing_report)
    print(f"report: {target.resolve()}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .report.serve import make_server

    server = make_server(args.run_dir, port=args.port)
    host, port = server.server_address[:2]
    print(f"serving {Path(args.run_dir).resolve()} at http://{host}:{port}/ (read only; Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _cmd_contrast(args: argparse.Namespace) -> int:
    from .store.result import load_result

    result = load_result(args.run_dir)
    data = result.contrast(by=args.by, group_by=args.group_by, level=args.level, progress=None)
    test = data.test
    print(f"groups ({data.grouping}): " + "; ".join(f"{g} = {', '.join(m)}" for g, m in data.groups.items()))
    print(f"framing use depends on group? {test['statistic']} = {test['value']}, permutation p = {test['p_value']} "
          f"({test['permutations']} permutations of {test['shuffled']}); members counted: {data.members}")
    if len(args.groups) != 2:
        if args.groups:
            raise FramingError("framing contrast takes two groups (or none to list them)")
        print("name two groups to compare them, e.g.: framing contrast RUN_DIR "
              + " ".join(repr(g) for g in list(data.groups)[:2]))
        return 0
    a, b = args.groups
    if args.within_events:
        return _print_within_events(result, a, b, args)
    try:
        view = result.contrast(a, b, framing=args.framing, by=args.by, group_by=args.group_by, level=args.level)
    except KeyError as exc:
        raise FramingError(str(exc).strip("'\"")) from None
    print(f"Jensen-Shannon divergence of their framing use: {view['divergence']:.3f} (0 same, 1 disjoint)")
    table = data.table
    labels = dict(zip(table["framing"], table["label"]))
    shown = [f for f in labels if f != UNASSIGNED] if args.framing is None else [args.framing]
    for framing_id in shown:
        if framing_id not in labels:
            raise FramingError(f"no {args.by[:-1]} {framing_id}; ids: {sorted(f for f in labels if f != UNASSIGNED)}")
        rows = table[(table["framing"] == framing_id) & table["group"].isin([a, b])].set_index("group")
        shares = "  ".join(
            f"{g} {rows.at[g, 'share']:.0%} " + (f"[{rows.at[g, 'low']:.0%}-{rows.at[g, 'high']:.0%}]"
                                                if rows.at[g, "low"] == rows.at[g, "low"]
                                                else f"(no interval: {rows.at[g, 'documents']} document)")
            for g in (a, b) if g in rows.index)
        print(f"\n{framing_id}: {labels[framing_id]}\n  share of units: {shares}")
        words = view["words"][view["words"]["framing"] == framing_id]
        for side, name in (("a", a), ("b", b)):
            top = words[words["side"] == side].head(args.words)
            if not top.empty:
                print(f"  words of {name} (z towards {name}): "
                      + ", ".join(f"{w} (+{abs(z):.1f})" for w, z in zip(top["word"], top["z"])))
        for item in view["narratives"]:
            if item["framing"] == framing_id:
                for name in (a, b):
                    print(f"  {name} tells it:")
                    for text in item[name]:
                        print(f"    - {text}")
    return 0


def _interval(part: dict) -> str:
    return (f"{part['value']:.3f} [{part['low']:.3f}-{part['high']:.3f}]" if part["low"] is not None
            else f"{part['value']:.3f} (no interval)")


def _print_within_events(result, a: str, b: str, args: argparse.Namespace) -> int:
    """framing contrast RUN A B --within-events: the same two groups, compared event by event."""
    try:
        view = result.contrast(a, b, framing=args.framing, by=args.by, within="events", group_by=args.group_by,
                               level=args.level)
    except KeyError as exc:
        raise FramingError(str(exc).strip("'\"")) from None
    test = view["test"]
    print(f"within events: {_count(test['events'], 'event')} told by both sides ({test['documents']} documents); "
          f"{args.by[:-1]} use depends on group given the event? {test['statistic']} = {test['value']}, "
          f"permutation p = {test['p_value']} ({test['permutations']} permutations of {test['shuffled']})")
    parts = view["agenda_framing"]
    if parts:
        print(f"difference between {a} and {b} (total variation, 95% interval): all {_interval(parts['total'])}; "
              f"agenda (which events) {_interval(parts['agenda'])}; framing (how they tell shared events) "
              f"{_interval(parts['framing'])} (distances: the parts do not add up to the whole)")
    events = {int(e["id"]): e for e in result.events.to_dict(orient="records")}
    divergence = view["divergence"]
    for row in divergence.sort_values("jsd", ascending=False).head(10).itertuples() if not divergence.empty else []:
        print(f"  event {row.event} ({events.get(row.event, {}).get('label', '')}): Jensen-Shannon divergence "
              f"{row.jsd:.3f} ({row.units_a} vs {row.units_b} units)")
    words = view["words"]
    for side, name in (("a", a), ("b", b)):
        top = words[words["side"] == side].head(args.words) if not words.empty else words
        if not top.empty:
            print(f"words of {name} within events (z towards {name}): "
                  + ", ".join(f"{w} (+{abs(z):.1f})" for w, z in zip(top["word"], top["z"])))
    for item in view["passages"][:5]:
        print(f"\nevent {item['event']} ({item['event_label']}), {args.by[:-1]} {item['framing']}: {item['label']}")
        for name in (a, b):
            print(f"  {name} tells it:")
            for text in item[name]:
                print(f"    - {text}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from .frames.evaluate import EVALUATION_FILE, evaluate_run, format_evaluation, read_gold
    from .store.outputs import write_file_atomically
    from .store.result import load_result

    gold = read_gold(args.gold)
    result = load_result(args.run_dir)
    evaluation = evaluate_run(result.units, gold, permutations=max(args.permutations, 0), seed=result.manifest.get("seed", 0))
    target = Path(args.run_dir) / EVALUATION_FILE
    write_file_atomically(target, lambda path: path.write_text(json.dumps(evaluation, indent=1, ensure_ascii=False),
                                                                encoding="utf-8"))
    for caution in evaluation["cautions"]:  # on stderr too, where a script watching warnings sees them
        log.warning(caution)
    print(format_evaluation(evaluation))
    print(f"\nwrote {target}", file=sys.stderr)
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from .config import starter_config

    folder = Path(args.dir)
    target = folder / "config.yaml"
    if target.exists():
        raise FramingError(f"{target} exists already; not overwriting it")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(starter_config(str(target), folder.resolve().name), encoding="utf-8")
    except OSError as exc:
        raise FramingError(f"cannot write {target}: {exc.strerror}") from None
    print(f"wrote {target}: set corpus.path, then run: framing run {target}")
    return 0


def _user_os_error(exc: BaseException) -> FramingError | None:
    """A full disk, a quota or a permission met anywhere is the user's to fix: one line, not a traceback."""
    import sqlite3

    from .errors import disk_error

    if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
        return FramingError(f"cannot write the embedding cache: the disk is full ({exc})")
    if isinstance(exc, OSError):
        return disk_error(exc, "file", exc.filename or "(a temporary file)")
    return None


def _crash_log(exc: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to a file; its path, or ``None`` if it cannot be written."""
    import tempfile
    import time
    import traceback

    try:
        handle, name = tempfile.mkstemp(prefix=f"framing-crash-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".log")
        with open(handle, "w", encoding="utf-8") as log_file:
            log_file.write(f"framing {__version__}, python {sys.version.split()[0]}\n")
            log_file.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        return Path(name)
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        commands = {"run": _cmd_run, "apply": _cmd_apply, "report": _cmd_report, "contrast": _cmd_contrast,
                    "evaluate": _cmd_evaluate,
                    "init": _cmd_init, "serve": _cmd_serve}
        return commands[args.command](args)
    except FramingError as exc:
        print(f"framing: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("framing: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head or less that closed early: not an error
        sys.stderr.close()
        return 0
    except Exception as exc:  # noqa: BLE001 - the last net: one line, and the traceback kept for a bug report
        user_error = _user_os_error(exc)
        if user_error is not None:
            print(f"framing: error: {user_error}", file=sys.stderr)
            return 2
        if args.verbose:
            log.error("unexpected error", exc_info=exc)
        where = _crash_log(exc)
        first_line = (str(exc).splitlines() or [""])[0][:200]
        print(f"framing: internal error: {type(exc).__name__}: {first_line} (a bug in framing; the traceback is "
              f"in {where or 'no file: the temporary folder is not writable'}; -v prints it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
