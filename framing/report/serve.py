"""``framing serve RUN_DIR``: the report of a run too large for one file, with its passages sent on demand.

The page is the same report, written without the documents' text; this server answers its requests from the
run's own files: ``api/docs?d=…`` (documents' text by position), ``api/units?i=…`` (units' text by position) and
``api/search?q=…`` (distinct units whose text contains ``q``, case-folded, with pyarrow's vectorised substring
match). It is local and read-only: bound to 127.0.0.1, GET only, requests for another Host refused (so a web page
cannot reach it through DNS rebinding), nothing written.
"""
from __future__ import annotations

import json
import logging
import tempfile
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import FramingError

__all__ = ["RunServer", "make_server"]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_SEARCH_HITS = 200000
MAX_IDS = 5000


class RunServer:
    """What the server knows of one run: the page, the documents' and units' text, and the search column."""

    def __init__(self, run_dir: str | Path) -> None:
        from . import write_report
        from ..store.result import load_result

        result = load_result(run_dir)
        with tempfile.TemporaryDirectory() as folder:
            self.page = write_report(result, Path(folder) / "report.html", embed_text=False).read_bytes()
        units = result.unit_columns(["text", "duplicate_of"]).reset_index(drop=True)
        self.doc_texts = result.documents["text"].tolist()
        self.unit_texts = units["text"]
        distinct = (units["duplicate_of"] == "").to_numpy() if "duplicate_of" in units.columns else None
        self.distinct_positions = np.flatnonzero(distinct) if distinct is not None else np.arange(len(units))
        self.search_column = pc.utf8_lower(pa.array(self.unit_texts.iloc[self.distinct_positions].tolist(),
                                                    type=pa.large_string()))

    @property
    def n_documents(self) -> int:
        return len(self.doc_texts)

    @property
    def n_units(self) -> int:
        return len(self.unit_texts)

    def docs(self, positions: list[int]) -> dict[str, str]:
        return {str(d): self.doc_texts[d] for d in positions if 0 <= d < len(self.doc_texts)}

    def units(self, positions: list[int]) -> dict[str, str]:
        return {str(i): self.unit_texts.iat[i] for i in positions if 0 <= i < len(self.unit_texts)}

    def search(self, query: str) -> list[int]:
        """The distinct units that hold every term of ``query`` as whole words (``"quoted words"``: a phrase), as
        the page searches when it holds the texts itself."""
        terms = search_terms(query)
        if not terms:
            return []
        found = np.ones(len(self.search_column), dtype=bool)
        for term in terms:
            pattern = _NOT_WORD_BEFORE + _re2_literal(term) + _NOT_WORD_AFTER
            found &= np.asarray(pc.match_substring_regex(self.search_column, pattern).to_numpy(zero_copy_only=False),
                                dtype=bool)
        return self.distinct_positions[found][:MAX_SEARCH_HITS].tolist()


# a term stands alone: no letter, digit or underscore of any script on either side (RE2 has no lookbehind)
_NOT_WORD_BEFORE, _NOT_WORD_AFTER = r"(?:^|[^\p{L}\p{N}_])", r"(?:$|[^\p{L}\p{N}_])"
_RE2_SPECIAL = set("\\.+*?()|[]{}^$")


def search_terms(query: str) -> list[str]:
    """The terms of a search: quoted phrases and single words, lower-cased (as the report's search reads them)."""
    import re

    return [term.strip().lower() for quoted, word in re.findall(r'"([^"]+)"|(\S+)', query[:1000])
            for term in (quoted or word,) if term.strip()][:20]


def _re2_literal(term: str) -> str:
    """``term`` as an RE2 pattern matching itself, with any run of white space matching any other."""
    return r"\s+".join("".join("\\" + c if c in _RE2_SPECIAL else c for c in part) for part in term.split())


class BadQuery(ValueError):
    """A query the server cannot answer: answered with 400, never a traceback."""


def _positions(values: list[str], limit: int) -> list[int]:
    """Comma-separated row numbers below ``limit`` (at most ``MAX_IDS``); anything else is a ``BadQuery``."""
    out: list[int] = []
    for value in ",".join(values).split(","):
        value = value.strip()
        if not value:
            continue
        # ASCII digits only: "²".isdigit() is true, and int("²") fails
        if not (value.isascii() and value.isdigit()) or int(value) >= limit:
            raise BadQuery(f"not a row number below {limit}: {value[:20]!r}")
        out.append(int(value))
        if len(out) >= MAX_IDS:
            break
    return out


def _handler(run: RunServer, port_of: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "framing-serve"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            log.debug("%s %s", self.address_string(), format % args)

        def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the browser went away: nothing to tell anyone
                pass

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            host = (self.headers.get("Host") or "").lower()
            if host not in {f"127.0.0.1:{port_of()}", f"localhost:{port_of()}"}:
                self._send(HTTPStatus.FORBIDDEN, b"framing serve answers only http://127.0.0.1\n", "text/plain")
                return
            try:
                self._answer()
            except BadQuery as exc:
                self._send(HTTPStatus.BAD_REQUEST, f"{exc}\n".encode(), "text/plain; charset=utf-8")

        def _answer(self) -> None:
            url = urlsplit(self.path)
            try:
                query = parse_qs(url.query, errors="strict", max_num_fields=64)
            except ValueError as exc:
                raise BadQuery(f"a query string that cannot be read ({str(exc)[:60]})") from None
            if url.path == "/favicon.ico":  # browsers ask for it; a 404 showed as an error in the console
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            elif url.path in ("/", "/report.html"):
                self._send(HTTPStatus.OK, run.page, "text/html; charset=utf-8")
            elif url.path == "/api/docs":
                self._json(run.docs(_positions(query.get("d", []), run.n_documents)))
            elif url.path == "/api/units":
                self._json(run.units(_positions(query.get("i", []), run.n_units)))
            elif url.path == "/api/search":
                self._json(run.search(query.get("q", [""])[0]))
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

        def _json(self, value: Any) -> None:
            self._send(HTTPStatus.OK, json.dumps(value, ensure_ascii=False).encode("utf-8"),
                       "application/json; charset=utf-8")

        def _refuse(self) -> None:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"read only\n", "text/plain")

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    return Handler


def make_server(run_dir: str | Path, port: int = 8765) -> ThreadingHTTPServer:
    """A server for ``run_dir`` on 127.0.0.1:``port`` (0: any free port); call ``serve_forever()`` on it."""
    run = RunServer(run_dir)
    holder: dict[str, int] = {}
    try:
        server = ThreadingHTTPServer((HOST, port), _handler(run, lambda: holder["port"]))
    except OSError as exc:
        raise FramingError(f"cannot listen on {HOST}:{port} ({exc.strerror}); choose another with --port") from None
    holder["port"] = server.server_address[1]
    return server
