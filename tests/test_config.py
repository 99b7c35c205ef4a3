from pathlib import Path

import pytest

from framing.config import Config, load_config, parse_override, starter_config
from framing.errors import FramingError


def test_defaults_are_valid_and_documented():
    config = Config()
    assert config.units.kind == "sentences"
    assert config.embedding.model == "all-MiniLM-L6-v2"
    assert config.reduce.n_components == 5
    # the starter config is the defaults, written out with comments: it must load to the same tree
    starter = load_config_text(starter_config("x.yaml"))
    assert starter.to_dict()["cluster"] == config.to_dict()["cluster"]
    assert starter.to_dict()["units"] == config.to_dict()["units"]
    assert starter.to_dict()["contrast"] == config.to_dict()["contrast"]


def load_config_text(text: str, tmp_path: Path | None = None) -> Config:
    import tempfile

    folder = Path(tempfile.mkdtemp()) if tmp_path is None else tmp_path
    path = folder / "c.yaml"
    path.write_text(text)
    return load_config(path)


def test_unknown_key_names_dotted_path_and_allowed_keys(tmp_path):
    with pytest.raises(FramingError) as info:
        load_config_text("cluster:\n  min_clustr_size: 5\n", tmp_path)
    message = str(info.value)
    assert "cluster.min_clustr_size" in message
    assert "did you mean cluster.min_cluster_size" in message
    assert "selection_method" in message  # the allowed keys are listed
    assert "\n" not in message


def test_unknown_section(tmp_path):
    with pytest.raises(FramingError, match=r"unknown key clustr.*allowed here: run, corpus, units"):
        load_config_text("clustr:\n  min_cluster_size: 5\n", tmp_path)


def test_wrong_type_and_literal_values_are_named(tmp_path):
    with pytest.raises(FramingError, match=r"cluster\.min_cluster_size: .*integer.*'many'"):
        load_config_text("cluster:\n  min_cluster_size: many\n", tmp_path)
    with pytest.raises(FramingError, match=r"units\.kind: .*'sentences', 'paragraphs' or 'windows'.*'words'"):
        load_config(None, ["units.kind=words"])
    with pytest.raises(FramingError, match=r"reduce\.n_components: .*greater than or equal to 2"):
        load_config(None, ["reduce.n_components=1"])


def test_bad_yaml_is_one_line(tmp_path):
    with pytest.raises(FramingError) as info:
        load_config_text("cluster: [unclosed\n", tmp_path)
    assert "not valid YAML" in str(info.value) and "\n" not in str(info.value)


def test_missing_config_file():
    with pytest.raises(FramingError, match="config file not found"):
        load_config("no/such/config.yaml")


def test_overrides_are_yaml_scalars_and_dotted():
    assert parse_override("cluster.min_cluster_size=12") == (["cluster", "min_cluster_size"], 12)
    assert parse_override("cluster.reassign_threshold=null") == (["cluster", "reassign_threshold"], None)
    assert parse_override("corpus.glob=[a.txt, b.md]") == (["corpus", "glob"], ["a.txt", "b.md"])
    config = load_config(None, ["cluster.min_cluster_size=12", "run.name=x"])
    assert config.cluster.min_cluster_size == 12 and config.run.name == "x"
    config = load_config(None, {"cluster__min_cluster_size": 3})
    assert config.cluster.min_cluster_size == 3
    with pytest.raises(FramingError, match="key=value"):
        parse_override("cluster.min_cluster_size")


def test_paths_in_a_file_are_relative_to_the_file_but_overrides_to_cwd(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text("corpus:\n  path: ../docs\n  metadata: meta.csv\n")
    config = load_config(path)
    assert Path(config.corpus.path) == (tmp_path / "docs").resolve()
    assert Path(config.corpus.metadata) == (tmp_path / "sub" / "meta.csv").resolve()
    config = load_config(path, ["corpus.path=elsewhere"])
    assert config.corpus.path == "elsewhere"


def test_shipped_configs_load():
    root = Path(__file__).resolve().parents[1] / "configs"
    assert load_config(root / "example.yaml").run.name == "example"
    aleppo = load_config(root / "aleppo-2016.yaml")
    assert aleppo.corpus.date_field == "published"
    assert Path(aleppo.corpus.path).name == "aleppo-2016"


def test_the_starter_config_is_generated_from_the_fields(tmp_path):
    """Every key of every section, its default and its description, read from the pydantic fields: the starter
    file cannot disagree with the config it starts."""
    from framing.config import Config, load_config, starter_config

    text = starter_config("c.yaml", "study")
    path = tmp_path / "c.yaml"
    path.write_text(text)
    loaded = load_config(path).to_dict()
    defaults = Config().to_dict()
    loaded["run"]["name"], loaded["corpus"]["path"] = defaults["run"]["name"], defaults["corpus"]["path"]
    assert loaded == defaults
    lines, section = {}, None
    for line in text.splitlines():
        if line and not line.startswith(("#", " ")):
            section = line.split(":")[0]
        elif line.startswith("  "):
            lines[(section, line.split(":")[0].strip())] = line
    for section, field in Config.model_fields.items():
        for key, sub in field.annotation.model_fields.items():
            assert sub.description and lines[(section, key)].endswith(f"# {sub.description}"), (section, key)
