"""framing: find how different sources frame the same events — recurring framings, traced to their passages.

    >>> import framing
    >>> result = framing.analyze()                 # the bundled example corpus
    >>> result.framings[0].label, result.passages(0).head()
    >>> framing.save_run(result, "outputs/example")  # the run folder with its report.html
    >>> result.contrast("state", "opposition")      # with configs/example.yaml: groups by leaning
"""
__version__ = "0.1.0"

from .config import Config, load_config  # noqa: E402
from .contrast.analysis import Contrast  # noqa: E402
from .corpus.documents import Corpus, Document, example_corpus_path  # noqa: E402
from .corpus.load import load_corpus
from .errors import FramingError  # noqa: E402
from .framings.describe import Framing  # noqa: E402
from .framings.model import FramingModel  # noqa: E402
from .report import Report  # noqa: E402
from .run.framer import Framer  # noqa: E402
from .run.pipeline import analyze, save_run  # noqa: E402
from .store.result import Result, load_result  # noqa: E402
from .units.segment import Unit, segment  # noqa: E402

__all__ = [
    "__version__", "analyze", "save_run", "load_corpus", "load_result", "load_config", "example_corpus_path",
    "Config", "Corpus", "Document", "Unit", "Framing", "Framer", "FramingModel", "Result", "Report", "Contrast", "FramingError",
    "segment",
]
