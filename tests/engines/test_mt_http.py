"""Server engines: ``openai`` on a real llama.cpp server, ``libretranslate`` on a stand-in.

The llama.cpp server runs the offline GGUF. That model is a base model, not a chat model, so
its chat answers are not translations: the test checks the protocol (request, answer, limits),
not quality; quality is the llama engine's test and the benchmark's job.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tolmach import catalog
from tolmach.config import Settings
from tolmach.engines import mt_http
from tolmach.engines.mt import make_translator
from tolmach.engines.mt_base import TranslationRequest
from tolmach.errors import ConfigError, EngineError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mt_http, "BACKOFF_S", 0.0)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    models = tmp_path_factory.mktemp("mt-server") / "models"
    gguf, _ref = catalog.load(models, "gemma3-270m")
    port = free_port()
    log = (models.parent / "server.log").open("wb")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--port", str(port)]
    cmd += ["--n_ctx", "2048", "--chat_format", "gemma"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (models.parent / "server.log").read_text()[-500:]
                pytest.fail(f"llama.cpp server did not start: {tail}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.mark.server
@pytest.mark.model
def test_openai_engine_against_llama_cpp_server(llama_server: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, mt_engine="openai", mt_url=llama_server, mt_model="gemma3-270m"
    )
    engine = make_translator(settings)
    req = TranslationRequest(
        "Нам не хватает воды.", "ru", before=("Мы стоим здесь.",), glossary={"вода": "water"}
    )
    english = engine.translate(req)
    assert isinstance(english, str) and english.strip()
    assert "\n" not in english
    assert engine.model_ref().name == "gemma3-270m" and engine.model_ref().source == llama_server
    assert engine.translate(TranslationRequest("  ", "ru")) == ""


def test_openai_engine_server_down(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    engine = make_translator(
        Settings(data_dir=tmp_path, mt_engine="openai", mt_url=url, mt_model="m")
    )
    with pytest.raises(EngineError) as err:
        engine.translate(TranslationRequest("Нам не хватает воды.", "ru"))
    assert "openai" in str(err.value) and url in str(err.value)
    assert "Start the server" in err.value.hint and "--mt-engine" in err.value.hint


def test_server_engines_need_a_url(tmp_path: Path) -> None:
    for name in ("openai", "libretranslate"):
        with pytest.raises(ConfigError, match="mt_url"):
            make_translator(Settings(data_dir=tmp_path, mt_engine=name))  # type: ignore[arg-type]


class LibreStandIn(BaseHTTPRequestHandler):
    """Speaks LibreTranslate's ``POST /translate`` (stands in for a real server, whose models
    cannot be downloaded here). Paths: /ok/translate answers, /flaky/translate fails twice with
    500 then answers, /err/translate always 500, /bad/translate sends broken JSON."""

    words: ClassVar[dict[str, str]] = {
        "мы": "we",
        "из": "are from",
        "нам": "we",
        "не": "do not",
        "хватает": "have enough",
    }
    calls: ClassVar[dict[str, int]] = {}
    payloads: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        mode = self.path.strip("/").split("/")[0]
        self.calls[mode] = self.calls.get(mode, 0) + 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.payloads.append(body)
        if mode == "err" or (mode == "flaky" and self.calls[mode] <= 2):
            return self._send(500, b'{"error": "internal"}')
        if mode == "bad":
            return self._send(200, b"{not json")
        out = " ".join(self.words.get(w.lower().strip(".,"), w) for w in body["q"].split())
        self._send(200, json.dumps({"translatedText": out}).encode())

    def _send(self, code: int, data: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def libre() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), LibreStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _libre(tmp_path: Path, url: str) -> Any:
    settings = Settings(data_dir=tmp_path, mt_engine="libretranslate", mt_url=url, mt_api_key="k")
    return make_translator(settings)


def test_libretranslate_protects_glossary_terms(libre: str, tmp_path: Path) -> None:
    engine = _libre(tmp_path, f"{libre}/ok")
    req = TranslationRequest("Мы из 96-го полка.", "ru", glossary={"полк": "regiment"})
    assert engine.translate(req) == "we are from 96-го regiment."
    sent = LibreStandIn.payloads[-1]
    assert sent == {
        "q": "Мы из 96-го ⟦1⟧.",
        "source": "ru",
        "target": "en",
        "format": "text",
        "api_key": "k",
    }
    assert engine.model_ref().source == f"{libre}/ok"


def test_libretranslate_retries_then_succeeds(libre: str, tmp_path: Path) -> None:
    engine = _libre(tmp_path, f"{libre}/flaky")
    assert engine.translate(TranslationRequest("Нам не хватает.", "ru")) == "we do not have enough"
    assert LibreStandIn.calls["flaky"] == 3


def test_libretranslate_errors(libre: str, tmp_path: Path) -> None:
    req = TranslationRequest("Нам не хватает воды.", "ru")
    with pytest.raises(EngineError, match="HTTP 500") as err:
        _libre(tmp_path, f"{libre}/err").translate(req)
    assert f"{libre}/err/translate" in str(err.value) and "--mt-engine" in err.value.hint
    assert LibreStandIn.calls["err"] == 3  # first try and two retries
    with pytest.raises(EngineError, match="not JSON"):
        _libre(tmp_path, f"{libre}/bad").translate(req)
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(EngineError, match="cannot reach"):
        _libre(tmp_path, down).translate(req)
