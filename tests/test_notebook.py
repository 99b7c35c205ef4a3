"""notebooks/quickstart.ipynb runs top to bottom with a real kernel, so it cannot rot."""
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_executes(tmp_path, monkeypatch, cache_dir):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("HOME", str(tmp_path))  # the notebook's default embedding cache lands in a temp home
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = "".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "<table" in html  # the framings and the source x framing tables rendered
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)  # the map
    printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "cross-validated accuracy" in printed  # the frames section learned from its labels
    sources = "".join("".join(cell.source) for cell in notebook.cells if cell.cell_type == "code")
    assert all(call in sources for call in ("framing.Framer(", ".fit(", ".save(", "Framer.load(", ".transform("))
    assert "membership" in html and "p (within events)" in "".join(
        str(o.get("data", {}).get("text/plain", "")) for o in outputs)
