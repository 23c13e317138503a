"""CTranslate2 engines: a text translation model folder, and Whisper's speech translation.

``ctranslate2``: an OPUS-MT/Marian conversion (``source.spm``/``target.spm`` beside
``model.bin``) or an NLLB conversion (``sentencepiece.bpe.model``; source prefix ``rus_Cyrl``
or ``ukr_Cyrl``, target prefix ``eng_Latn``). Context cannot be passed to these models.

``whisper``: Whisper's ``task="translate"`` on the segment's slice of the item's audio. A
fallback only: on "base" it has reversed the meaning of a sentence.

    engine = CT2Translator(Settings(mt_engine="ctranslate2", mt_ct2_path="/models/opus-mt-ru-en"))
    engine = WhisperTranslator(settings, Path("audio.wav"))
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tolmach import catalog
from tolmach.config import Settings
from tolmach.engines import mt_prompt
from tolmach.engines.mt_base import TranslationRequest
from tolmach.errors import ConfigError, EngineError, ModelError
from tolmach.models import ModelRef

NLLB_CODES = {"ru": "rus_Cyrl", "uk": "ukr_Cyrl", "be": "bel_Cyrl"}
SAMPLE_RATE = 16000
HINT = "Choose another engine with --mt-engine."


class CT2Translator:
    """A CTranslate2 translation model with SentencePiece tokenizers (Marian or NLLB)."""

    name = "ctranslate2"

    def __init__(self, settings: Settings) -> None:
        import ctranslate2
        import sentencepiece as spm

        if not settings.mt_ct2_path:
            raise ConfigError(
                "The ctranslate2 engine needs a model folder.", "Set mt_ct2_path (--mt-ct2-path)."
            )
        folder, self._ref = catalog.load(settings.models_dir, settings.mt_ct2_path)
        nllb = folder / "sentencepiece.bpe.model"
        self._nllb = nllb.is_file()
        src_model = nllb if self._nllb else folder / "source.spm"
        tgt_model = nllb if self._nllb else folder / "target.spm"
        for needed in (src_model, tgt_model):
            if not needed.is_file():
                raise ModelError(
                    f"{folder} has no {needed.name}.",
                    "Give a Marian folder with source.spm/target.spm or an NLLB folder with "
                    "sentencepiece.bpe.model.",
                )
        try:
            self._sp_src = spm.SentencePieceProcessor(model_file=str(src_model))
            self._sp_tgt = spm.SentencePieceProcessor(model_file=str(tgt_model))
            self._model = ctranslate2.Translator(
                str(folder),
                device="cpu",
                compute_type="int8",
                inter_threads=1,
                intra_threads=os.cpu_count() or 1,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"CTranslate2 could not load {folder}: {exc}", HINT) from None

    def model_ref(self) -> ModelRef:
        return self._ref

    def translate(self, request: TranslationRequest) -> str:
        if not request.text.strip():
            return ""
        pieces: list[str] = self._sp_src.encode(mt_prompt.one_line(request.text), out_type=str)
        prefix: list[list[str]] | None = None
        if self._nllb:
            code = NLLB_CODES.get(request.source_language)
            if code is None:
                raise ConfigError(f"NLLB has no code for {request.source_language!r} here.")
            pieces = [code, *pieces, "</s>"]
            prefix = [["eng_Latn"]]
        else:
            pieces = [*pieces, "</s>"]
        try:
            result = self._model.translate_batch(
                [pieces],
                target_prefix=prefix,
                beam_size=4,
                max_decoding_length=mt_prompt.max_tokens(request.text),
            )
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"ctranslate2 failed on a segment: {exc}", HINT) from None
        tokens = [t for t in result[0].hypotheses[0] if t not in ("</s>", "<s>", "eng_Latn")]
        english: str = self._sp_tgt.decode_pieces(tokens)
        return mt_prompt.trim_loop(english)


class WhisperTranslator:
    """Whisper's speech translation of each segment's audio slice (a fallback)."""

    name = "whisper"

    def __init__(self, settings: Settings, audio: Path) -> None:
        from faster_whisper import WhisperModel, decode_audio

        path, self._ref = catalog.load(settings.models_dir, settings.asr_model)
        try:
            self._model = WhisperModel(
                str(path),
                device=settings.asr_device,
                compute_type=settings.asr_compute_type,
                cpu_threads=settings.asr_threads or os.cpu_count() or 1,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"Whisper could not load {settings.asr_model}: {exc}", HINT) from None
        try:
            self._audio: Any = decode_audio(str(audio), sampling_rate=SAMPLE_RATE)
        except (OSError, ValueError) as exc:
            raise EngineError(f"whisper: cannot read the audio {audio.name}: {exc}", HINT) from None
        self._beam = settings.asr_beam_size

    def model_ref(self) -> ModelRef:
        return self._ref

    def translate(self, request: TranslationRequest) -> str:
        start = max(0, int(request.start * SAMPLE_RATE))
        end = int(request.end * SAMPLE_RATE) if request.end > request.start else len(self._audio)
        clip = self._audio[start:end]
        if len(clip) < SAMPLE_RATE // 10:
            return ""
        try:
            segments, _info = self._model.transcribe(
                clip,
                language=request.source_language,
                task="translate",
                beam_size=self._beam,
                condition_on_previous_text=False,
                initial_prompt=" ".join(request.before) or None,
            )
            text = " ".join(s.text.strip() for s in segments)
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"whisper translate failed on a segment: {exc}", HINT) from None
        return mt_prompt.trim_loop(text)
