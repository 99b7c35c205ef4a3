"""The Ray engine against the local one, on a local Ray of 2 CPUs (real Ray Data, real model)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import framing
from framing.config import Config, EngineConfig
from framing.corpus.load import load_corpus
from framing.embed.cache import make_embedder
from framing.errors import FramingError, MissingExtra

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "example.yaml"


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'framing[ray]')")
    # one logical GPU (Ray schedules by declared resources; this machine has none): actors that ask for a GPU
    # are placed, and their model is asked to load on cuda
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
@pytest.mark.ray
def test_ray_segments_and_embeds_as_the_local_engine_does(local_ray, aleppo_path):
    from framing.engines.local import LocalEngine
    from framing.engines.ray import RayEngine

    config = Config()
    documents = load_corpus(aleppo_path).documents
    engine = RayEngine(EngineConfig(name="ray", actors=2, block_texts=64, block_documents=2), config.embedding)
    assert not engine.started  # it joined the Ray already running, and will leave it running
    on_ray = engine.segment(documents, config.units, progress=False)
    local = LocalEngine().segment(documents, config.units, progress=False)
    assert list(on_ray) == list(local) and len(local) > 500
    texts = local.texts()[:300]
    embedder = make_embedder(progress=False)
    vectors = engine.embedder(embedder).encode(texts)  # 5 blocks over 2 actors, back in input order
    assert vectors.shape == (300, embedder.encode(texts[:1]).shape[1])
    assert np.allclose(vectors, embedder.encode(texts), atol=1e-5)


@pytest.mark.slow
@pytest.mark.ray
def test_ray_reads_pages_and_shards_as_the_local_engine_does(local_ray, aleppo_path, tmp_path):
    from test_corpus import write, write_shards

    from framing.config import CorpusConfig
    from framing.engines.ray import RayEngine

    engine = RayEngine(EngineConfig(name="ray", block_files=2), Config().embedding)
    for path in (aleppo_path, str(write_shards(tmp_path) / "part-*")):
        local, on_ray = load_corpus(path), load_corpus(path, map_files=engine.map_files)
        assert on_ray.documents == local.documents and len(local.documents) >= 4
        assert (on_ray.skipped, on_ray.warnings, on_ray.input_hashes) == (local.skipped, local.warnings,
                                                                          local.input_hashes)
    write(tmp_path / "broken" / "a.jsonl", '{"text": "fine"}\n{"text": \n')
    with pytest.raises(FramingError, match=r"a.jsonl:2: not valid JSON"):  # one line, not a Ray traceback
        load_corpus(str(tmp_path / "broken" / "*.jsonl"), CorpusConfig(), map_files=engine.map_files)


@pytest.mark.slow
@pytest.mark.ray
def test_ray_reads_a_record_file_in_parts_as_the_local_engine_does(local_ray, tmp_path, monkeypatch):
    """Each part of a record file comes back from its worker on its own; the driver puts them in order."""
    import json

    from test_corpus import write

    from framing.corpus import records as corpus_module
    from framing.config import CorpusConfig
    from framing.engines.ray import RayEngine

    engine = RayEngine(EngineConfig(name="ray", block_files=1), Config().embedding)
    for k in range(3):
        write(tmp_path / "shards" / f"part-{k}.jsonl", "".join(
            json.dumps({"text": f"Shard {k} record {n} is here." if n % 4 else "", "source": f"S{n % 3}"}) + "\n"
            for n in range(12 + k)))
    pattern = str(tmp_path / "shards" / "part-*.jsonl")
    whole = load_corpus(pattern)
    monkeypatch.setattr(corpus_module, "RECORD_PART_CHARS", 1)  # a part per document, on the workers too
    for path in (pattern, str(tmp_path / "shards" / "part-2.jsonl")):
        local, on_ray = load_corpus(path), load_corpus(path, map_files=engine.map_files)
        assert on_ray.documents == local.documents and len(local.documents) >= 10
        assert (on_ray.skipped, on_ray.warnings, on_ray.input_hashes) == (local.skipped, local.warnings,
                                                                          local.input_hashes)
    assert on_ray.documents == [d for d in whole.documents if d.id.startswith("part-2.jsonl:")]
    assert load_corpus(pattern, map_files=engine.map_files).documents == whole.documents
    write(tmp_path / "late" / "a.jsonl", "".join(json.dumps({"text": f"Record {n}."}) + "\n" for n in range(5))
          + '{"text": \n')
    with pytest.raises(FramingError, match=r"a.jsonl:6: not valid JSON"):
        load_corpus(tmp_path / "late" / "a.jsonl", CorpusConfig(), map_files=engine.map_files)


@pytest.mark.slow
@pytest.mark.ray
def test_ray_engine_writes_the_run_folder_the_local_engine_writes(local_ray, cache_dir, tmp_path):
    settings = {"embedding__cache_dir": str(cache_dir), "reduce__fit_sample": 150, "progress": False}
    local = framing.analyze(None, EXAMPLE, **settings)
    on_ray = framing.analyze(None, EXAMPLE, engine__name="ray", engine__block_documents=4, **settings)
    assert on_ray.manifest["engine"] == "ray" and local.manifest["engine"] == "local"
    assert on_ray.manifest["counts"] == local.manifest["counts"]
    assert on_ray.manifest["counts"]["fitted"] == 150  # the rest were placed by Ray tasks
    # same units, and — over the same vectors — the same framings, fitted and placed alike
    columns = ["unit_id", "doc_id", "start", "end", "text", "section", "dup_group", "fitted", "framing",
               "framing_label", "reassigned"]
    pd.testing.assert_frame_equal(on_ray.units[columns], local.units[columns])
    assert np.allclose(on_ray.units[["x", "y", "probability"]], local.units[["x", "y", "probability"]])
    assert [f.to_dict() for f in on_ray.framings] == [f.to_dict() for f in local.framings]
    local_folder, ray_folder = local.save(tmp_path / "local"), on_ray.save(tmp_path / "ray")
    assert sorted(p.name for p in local_folder.iterdir()) == sorted(p.name for p in ray_folder.iterdir())
    saved = json.loads((ray_folder / "run.json").read_text())
    assert saved["engine"] == "ray" and saved["config"]["engine"]["name"] == "ray"


@pytest.mark.slow
@pytest.mark.ray
def test_embedding_actors_take_the_gpus_the_config_asks_for(local_ray):
    """engine.gpus_per_actor: the actors are scheduled on the cluster's GPU and load the model on cuda. This
    machine's torch has no CUDA, so loading fails there, and the failure comes back as one user error."""
    from framing.engines.ray import RayEngine

    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this test needs a machine without CUDA: there the model would load")
    embedding = Config().embedding
    engine = RayEngine(EngineConfig(name="ray", actors=1, gpus_per_actor=1), embedding)
    with pytest.raises(FramingError, match="cannot load embedding model .* on 'cuda'"):
        engine.embedder(make_embedder(progress=False)).encode(["A sentence for the actor to embed."])
    engine = RayEngine(EngineConfig(name="ray", actors=1, gpus_per_actor=0), embedding)
    assert engine.embedder(make_embedder(progress=False)).encode(["A sentence to embed."]).shape == (1, 384)


def test_more_gpus_than_the_cluster_has_fail_on_a_local_ray_and_wait_on_a_cluster(caplog):
    from framing.engines.ray import check_gpus

    check_gpus(0.0, 0.0, local=True)  # CPU actors: nothing to check
    check_gpus(0.5, 1.0, local=True)  # two actors share a GPU
    with pytest.raises(FramingError, match=r"gpus_per_actor is 1, but the Ray cluster has 0 GPU\(s\): set"):
        check_gpus(1.0, 0.0, local=True)
    with caplog.at_level("WARNING", logger="framing"):
        check_gpus(1.0, 0.0, local=False)  # an autoscaler may add GPU nodes: a warning, not an error
    assert "wait until its autoscaler adds GPU nodes" in caplog.text


def test_gpu_actors_with_an_onnx_back_end_are_a_user_error():
    from framing.config import EmbeddingConfig
    from framing.engines import make_engine

    with pytest.raises(FramingError, match="gpus_per_actor 1 needs embedding.backend torch: onnx-int8 runs on"):
        make_engine(EngineConfig(name="ray", gpus_per_actor=1), EmbeddingConfig(backend="onnx-int8"))


def test_engine_ray_without_ray_installed_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as without the extra
    from framing.engines import make_engine

    with pytest.raises(MissingExtra, match=r"pip install 'framing\[ray\]'") as caught:
        make_engine(EngineConfig(name="ray"))
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, FramingError)


def test_cli_says_what_to_install_in_one_line(tmp_path):
    script = ("import sys; sys.modules['ray'] = None; from framing.cli import main; "
              f"sys.exit(main(['run', {str(EXAMPLE)!r}, '--set', 'engine.name=ray', '--out', "
              f"{str(tmp_path / 'run')!r}]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "pip install 'framing[ray]'" in done.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1:1", "no Ray cluster answered within"),
    ("ray://127.0.0.1:1", "no Ray cluster answered within"),
    ("garbage", "is not HOST:PORT, ray://HOST:PORT or auto"),
    ("127.0.0.1:70000", "is not HOST:PORT"),
])
def test_an_address_nothing_answers_at_ends_in_one_line_at_once(address, expected, monkeypatch):
    """Regression (issue 30, 4): engine.address=127.0.0.1:1 retried for ever; RAY_ADDRESS=garbage gave a traceback."""
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'framing[ray]')")
    from framing.engines.ray import check_cluster_address

    with pytest.raises(FramingError, match=expected):
        check_cluster_address(address, deadline=2.0)


def test_an_unreachable_address_from_the_cli_is_one_line_and_exit_2(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'framing[ray]')")
    proc = subprocess.run([sys.executable, "-m", "framing.cli", "run", "--no-progress", "--out", str(tmp_path / "run"),
                           "--set", "engine.name=ray", "--set", "engine.address=127.0.0.1:1"],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Ray cluster answered" in lines[0], proc.stderr
    assert not (tmp_path / "run").exists()


def test_a_ray_client_address_without_ray_client_says_what_to_install(tmp_path):
    """Regression (issue 30, 6): engine.address=ray://... (the README's own example) without ray[client] was a
    traceback."""
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'framing[ray]')")
    import socket

    try:
        import ray.util.client.worker  # noqa: F401  (present only with ray[client])
        import grpc  # noqa: F401
        pytest.skip("ray[client] is installed here")
    except ImportError:
        pass
    with socket.socket() as listener:  # something answers at the address, so the deadline check passes
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"ray://127.0.0.1:{listener.getsockname()[1]}"
        # in a fresh process: a Ray already started by this module's other tests would be joined instead
        proc = subprocess.run([sys.executable, "-m", "framing.cli", "run", "--no-progress", "--out",
                               str(tmp_path / "run"), "--set", "engine.name=ray", "--set", f"engine.address={address}"],
                              capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs Ray Client: pip install 'ray[client]'" in lines[0], proc.stderr
