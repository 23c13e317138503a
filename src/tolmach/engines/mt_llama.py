"""The ``llama`` translation engine: a local GGUF model through llama.cpp, few-shot prompted.

The default model, gemma3-270m, is a small base model: its output is a draft for a human
translator, never publishable as is. The model is loaded once per engine object; the fixed
part of the prompt is evaluated once and reused for every segment of the same language.

    engine = LlamaTranslator(settings)
    engine.translate(TranslationRequest("Нам не хватает воды.", "ru"))   # 'We do not have ...'
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from tolmach import catalog, glossary
from tolmach.config import Settings
from tolmach.engines import mt_examples, mt_prompt
from tolmach.engines.mt_base import TranslationRequest
from tolmach.errors import EngineError, ModelError
from tolmach.models import ModelRef

log = logging.getLogger(__name__)

N_CTX = 2048


def load_llama(path: Path, n_ctx: int = N_CTX, threads: int = 0) -> Any:
    """A ``llama_cpp.Llama`` for ``path`` (quiet; ``threads`` 0: all cores).

    ``ModelError`` if it will not load.
    """
    from llama_cpp import Llama

    try:
        return Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads or os.cpu_count() or 1,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(
            f"llama.cpp could not load {path}: {exc}",
            "Run `tolmach models verify`, or give a valid .gguf file with --mt-model.",
        ) from None


def complete(llm: Any, prompt: str, max_tokens: int, stop: tuple[str, ...]) -> str:
    """Greedy completion of ``prompt``; ``EngineError`` if llama.cpp fails."""
    try:
        out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stop=list(stop))
    except (ValueError, RuntimeError) as exc:
        raise EngineError(
            f"llama.cpp failed on a segment: {exc}",
            "Check the model with `tolmach models verify`, or choose another engine with "
            "--mt-engine.",
        ) from None
    text: str = out["choices"][0]["text"]
    return text


class LlamaTranslator:
    """Few-shot completion translation with a local GGUF model (a labelled draft)."""

    name = "llama"
    label = "draft"

    def __init__(self, settings: Settings) -> None:
        path, self._ref = catalog.load(settings.models_dir, settings.mt_model)
        self._llm = load_llama(path, threads=settings.mt_threads)
        self._k = settings.mt_examples
        self._n_ctx = N_CTX
        self._known = {e.english for e in glossary.load(settings.glossary).entries}

    def model_ref(self) -> ModelRef:
        return self._ref

    def translate(self, request: TranslationRequest) -> str:
        if not request.text.strip():
            return ""
        examples = mt_examples.nearest(request.source_language, request.text, self._k)
        prompt = mt_prompt.completion_prompt(request, examples)
        budget = mt_prompt.max_tokens(request.text)
        if self._too_long(prompt, budget):
            # Context and retrieved examples are optional: drop them rather than overflow.
            request = TranslationRequest(
                request.text, request.source_language, glossary=request.glossary
            )
            examples = []
            prompt = mt_prompt.completion_prompt(request)
        english = complete(self._llm, prompt, budget, mt_prompt.STOP)
        if mt_prompt.cyrillic_share(english) > 0.3:
            # The model echoed the source instead of translating: retry with plain labels.
            retry = mt_prompt.labelled_prompt(request, examples)
            english = complete(self._llm, retry, budget, ("\n",))
        english = mt_prompt.trim_loop(english)
        return mt_prompt.enforce_glossary(english, request.glossary, self._known)

    def _too_long(self, prompt: str, budget: int) -> bool:
        n = len(self._llm.tokenize(prompt.encode("utf-8"), add_bos=True))
        return bool(n + budget > self._n_ctx)
