"""Translation engines that call a server: an OpenAI-compatible chat endpoint and LibreTranslate.

    engine = OpenAITranslator(Settings(mt_engine="openai", mt_url="http://127.0.0.1:8080/v1",
                                       mt_model="qwen2.5-7b-instruct"))
    engine = LibreTranslator(Settings(mt_engine="libretranslate", mt_url="http://127.0.0.1:5000"))

Connection errors and 5xx answers are retried twice with a short backoff; any failure ends in
an ``EngineError`` naming the engine and URL. LibreTranslate cannot take context; glossary terms
are replaced by ⟦n⟧ placeholders before the request and their English is put back after.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import httpx

from tolmach.config import Settings
from tolmach.engines import mt_prompt
from tolmach.engines.mt_base import TranslationRequest
from tolmach.errors import ConfigError, EngineError
from tolmach.glossary import Entry, Glossary, term_pattern
from tolmach.models import ModelRef

log = logging.getLogger(__name__)

RETRIES = 2
BACKOFF_S = 0.5
HINT = "Start the server or set mt_url / choose another engine with --mt-engine."


def post_json(
    client: httpx.Client, engine: str, url: str, payload: dict[str, Any], headers: dict[str, str]
) -> Any:
    """POST JSON and return the decoded answer; retry connection errors and 5xx answers."""
    for attempt in range(RETRIES + 1):
        try:
            resp = client.post(url, json=payload, headers=headers)
        except httpx.TimeoutException:
            raise EngineError(f"{engine}: {url} did not answer in time.", HINT) from None
        except httpx.TransportError as exc:
            if attempt < RETRIES:
                time.sleep(BACKOFF_S * 2**attempt)
                continue
            raise EngineError(f"{engine}: cannot reach {url} ({exc}).", HINT) from None
        if resp.status_code >= 500 and attempt < RETRIES:
            log.warning("%s: %s answered %s; retrying", engine, url, resp.status_code)
            time.sleep(BACKOFF_S * 2**attempt)
            continue
        if resp.status_code >= 400:
            raise EngineError(
                f"{engine}: {url} answered HTTP {resp.status_code}: {resp.text[:200]}", HINT
            )
        try:
            return resp.json()
        except ValueError:
            raise EngineError(
                f"{engine}: {url} sent a malformed answer (not JSON).", HINT
            ) from None
    raise EngineError(f"{engine}: {url} kept failing.", HINT)  # pragma: no cover


def _need_url(settings: Settings, engine: str) -> str:
    if not settings.mt_url:
        raise ConfigError(f"The {engine} engine needs a server URL.", "Set mt_url (--mt-url).")
    return settings.mt_url.rstrip("/")


class OpenAITranslator:
    """Chat completions on any OpenAI-compatible server (llama.cpp, Ollama, vLLM, ...)."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self._base = _need_url(settings, self.name)
        self._url = f"{self._base}/chat/completions"
        self._model = settings.mt_model
        self._headers = (
            {"Authorization": f"Bearer {settings.mt_api_key}"} if settings.mt_api_key else {}
        )
        self._client = httpx.Client(timeout=settings.mt_timeout_s)

    def model_ref(self) -> ModelRef:
        # The server's weights are not visible from here: record name and where it was served.
        digest = hashlib.sha256(f"{self._model}@{self._base}".encode()).hexdigest()
        return ModelRef(self._model, digest, source=self._base)

    def translate(self, request: TranslationRequest) -> str:
        if not request.text.strip():
            return ""
        payload = {
            "model": self._model,
            "messages": [
                {"role": "system", "content": mt_prompt.system_prompt(request)},
                {"role": "user", "content": mt_prompt.user_message(request)},
            ],
            "temperature": 0,
            "max_tokens": mt_prompt.max_tokens(request.text),
        }
        data = post_json(self._client, self.name, self._url, payload, self._headers)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise EngineError(
                f"openai: {self._url} sent no choices[0].message.content.", HINT
            ) from None
        if not isinstance(content, str):
            raise EngineError(f"openai: {self._url} sent a non-text message.", HINT)
        return mt_prompt.trim_loop(" ".join(content.split()))


class LibreTranslator:
    """LibreTranslate's ``POST /translate``; glossary terms protected by placeholders."""

    name = "libretranslate"

    def __init__(self, settings: Settings) -> None:
        self._base = _need_url(settings, self.name)
        self._url = f"{self._base}/translate"
        self._api_key = settings.mt_api_key
        self._client = httpx.Client(timeout=settings.mt_timeout_s)

    def model_ref(self) -> ModelRef:
        digest = hashlib.sha256(f"libretranslate@{self._base}".encode()).hexdigest()
        return ModelRef("libretranslate", digest, source=self._base)

    def translate(self, request: TranslationRequest) -> str:
        if not request.text.strip():
            return ""
        glossary = Glossary(
            tuple(Entry(t, e, term_pattern(t)) for t, e in request.glossary.items())
        )
        text, mapping = mt_prompt.protect(request.text, glossary.spans(request.text))
        payload: dict[str, Any] = {
            "q": text,
            "source": request.source_language,
            "target": "en",
            "format": "text",
        }
        if self._api_key:
            payload["api_key"] = self._api_key
        data = post_json(self._client, self.name, self._url, payload, {})
        english = data.get("translatedText") if isinstance(data, dict) else None
        if not isinstance(english, str):
            raise EngineError(f"libretranslate: {self._url} sent no translatedText.", HINT)
        return mt_prompt.restore(english, mapping)
