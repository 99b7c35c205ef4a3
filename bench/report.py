"""How the report copes with a large run: file size, time until it is ready, time until a click answers.

Each load is a fresh headless Chromium page (Debian's chromium, driven by playwright, software WebGL); the script
prints medians. "ready" is from navigation until the map and table are drawn; "click" is from a real mouse click
on a point until the passage panel shows a passage (at 50k points several can share the clicked pixel, so the
script also says whether it was the aimed-at unit).

    python bench/report.py RUN_DIR [--runs 3]

A 50k-unit run to measure (real pipeline over bench/make_corpus.py sentences):
    python bench/make_corpus.py 50000 /tmp/c50k
    framing run --set corpus.path=/tmp/c50k --set cluster.min_cluster_size=50 --out /tmp/run50k
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-points", type=int, help="override the run's report.max_points")
    args = parser.parse_args()

    import framing
    from framing.report import needs_server, write_report
    from playwright.sync_api import sync_playwright

    result = framing.load_result(args.run_dir)
    if args.max_points:
        result.manifest.setdefault("config", {}).setdefault("report", {})["max_points"] = args.max_points
    served = needs_server(result)
    with tempfile.TemporaryDirectory() as folder:
        page_path = Path(folder) / "report.html"
        start = time.perf_counter()
        write_report(result, page_path)
        build = time.perf_counter() - start
        size_mb = page_path.stat().st_size / 1e6
        address = page_path.as_uri()
        if served:  # too much text for one file: the page is opened through framing serve, as a user would
            import threading

            from framing.report.serve import make_server

            start = time.perf_counter()
            server = make_server(args.run_dir, port=0)
            print(f"framing serve ready in {time.perf_counter() - start:.1f} s")
            threading.Thread(target=server.serve_forever, daemon=True).start()
            address = f"http://127.0.0.1:{server.server_address[1]}/"
        ready, click, exact, marks = [], [], [], []
        # an exemplar: drawn on the map even when the map shows a sample of the units (report.max_points)
        exemplar = result.framings[len(result.framings) // 3].exemplars[0]
        target = int(result.units.index[result.units["unit_id"] == exemplar][0])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            for _ in range(args.runs):
                page = browser.new_page(viewport={"width": 1500, "height": 1000})
                start = time.perf_counter()
                page.goto(address)
                page.wait_for_function("window.framingReady === true", timeout=300_000)
                ready.append(time.perf_counter() - start)
                marks.append(page.evaluate("""() => {
                    const nav = performance.getEntriesByType("navigation")[0];
                    const out = {response: nav.responseEnd, parsed: nav.domInteractive};
                    for (const m of performance.getEntriesByType("mark")) out[m.name.replace("framing:", "")] = m.startTime;
                    return out;
                }"""))
                page.evaluate("document.getElementById('map').scrollIntoView({block: 'center'})")
                point = page.evaluate(f"window.framingReport.pointPixel({target})")
                page.mouse.move(point["x"], point["y"])
                start = time.perf_counter()
                page.mouse.click(point["x"], point["y"])
                page.wait_for_selector("#passage-view .focus", timeout=60_000)
                click.append(time.perf_counter() - start)
                # at 50k points several can share the clicked pixel; plotly answers with the nearest
                exact.append(page.text_content("#passage-view .focus") == result.units.at[target, "text"])
                page.close()
            browser.close()
    print(f"{len(result.units)} units, {len(result.documents)} documents, {len(result.framings)} framings")
    print(f"report{' (served: passages on demand)' if served else ''}: {size_mb:.1f} MB, built in {build:.1f} s; ready {statistics.median(ready):.2f} s, "
          f"click answered {statistics.median(click):.2f} s (medians of {args.runs} loads; "
          f"ready {', '.join(f'{t:.2f}' for t in ready)}; click {', '.join(f'{t:.2f}' for t in click)}); "
          f"the clicked point was the target unit in {sum(exact)} of {len(exact)} loads")
    # where a load's time goes: milliseconds from navigation to each mark, medians over the loads
    names = [name for name in marks[0] if all(name in m for m in marks)]
    print("milestones (ms from navigation, median): " + ", ".join(
        f"{name} {statistics.median(m[name] for m in marks):.0f}" for name in sorted(names, key=lambda k: marks[0][k])))


if __name__ == "__main__":
    main()
