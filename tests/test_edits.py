"""Segment edits: a person's English or source text, recorded as stage runs the runner takes as
done, with only what reads the changed file run again. A real video item, real ffmpeg stages;
speech recognition and translation are fakes here (tests/web/test_items.py uses the real
engines)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from conftest import MediaFactory, copy_store, store_database
from tolmach import edits
from tolmach.config import Settings
from tolmach.engines import asr
from tolmach.engines.fake import FakeTranslator
from tolmach.errors import InputError
from tolmach.models import ModelRef, Segment
from tolmach.pipeline import runner, translate
from tolmach.pipeline.text_item import ingest_text
from tolmach.store import queries
from tolmach.store.desk import Job, add_job
from tolmach.store.tables import Event, StageRun
from tolmach.workspace import Workspace

NAMES = [stage.name for stage in runner.STAGES]
AFTER_TRANSLATE = [  # what reads the English, directly or not, on a video
    s.name
    for s in runner.STAGES[NAMES.index("translate") + 1 :]
    if "video" in s.kinds and not s.opt_in  # opt-in stages are off in these tests
]
SOURCES = ("Нам не хватает воды.", "Нас отправили без подготовки.", "Командир не отвечает.")
ENGLISH = {
    "Нам не хватает воды.": "We do not have enough water.",
    "Нас отправили без подготовки.": "We were sent without training.",
    "Командир не отвечает.": "The commander does not answer.",
    "Командир молчит уже три дня.": "The commander has been silent for three days.",
}


class ThreeSegments:
    """A recogniser that hears the three sentences of ``SOURCES``."""

    name = "fake-asr"

    def model_ref(self) -> ModelRef:
        return ModelRef("fake-asr", "a" * 64)

    def detect_language(self, audio: asr.Audio, candidates: Sequence[str]) -> dict[str, float]:
        return {"ru": 0.97, "uk": 0.03}

    def transcribe(self, audio: asr.Audio, language: str, offset: float = 0.0) -> list[Segment]:
        times = ((0.2, 1.8), (2.0, 3.6), (3.8, 5.4))
        return [
            Segment(i, a, b, text)
            for i, ((a, b), text) in enumerate(zip(times, SOURCES, strict=True))
        ]


class Queue:
    """Jobs as the desk's queue adds them: a row in the edit's transaction."""

    def submit(
        self,
        session: Any,
        kind: str,
        *,
        item_id: str | None = None,
        payload: dict[str, Any] | None = None,
        by: str = "",
    ) -> Job:
        return add_job(session, kind, item_id=item_id, payload=payload, by=by)


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("edits")
    clip = MediaFactory(root / "media").speech_video()
    url = store_database(root / "data")
    ws = Workspace.open(Settings(data_dir=root / "data", operator="tester", database_url=url))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(asr, "make_recognizer", lambda settings: ThreeSegments())
        mp.setattr(translate, "make_translator", lambda s, audio=None: FakeTranslator(ENGLISH))
        try:
            item_id = ws.ingest(clip).item_id
            ws.process(item_id)
        finally:
            ws.close()
    return root / "data", item_id


@pytest.fixture
def item(processed: tuple[Path, str], tmp_path: Path) -> Iterator[tuple[Workspace, str]]:
    copy_store(processed[0], tmp_path / "data")
    ws = Workspace.open(Settings(data_dir=tmp_path / "data", operator="tester"))
    yield ws, processed[1]
    ws.close()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeTranslator:
    engine = FakeTranslator(ENGLISH)
    monkeypatch.setattr(edits, "make_translator", lambda settings, audio=None: engine)
    monkeypatch.setattr(translate, "make_translator", lambda settings, audio=None: engine)
    return engine


def current(ws: Workspace, item_id: str, name: str) -> Any:
    with ws.db() as session:
        return json.loads(ws.blobs.read_bytes(queries.current_outputs(session, item_id)[name]))


def runs_after(ws: Workspace, last: int) -> list[tuple[str, str]]:
    with ws.db() as session:
        rows = session.scalars(select(StageRun).where(StageRun.id > last).order_by(StageRun.id))
        return [(r.stage, r.engine) for r in rows]


def last_run(ws: Workspace) -> int:
    with ws.db() as session:
        return session.scalar(select(func.max(StageRun.id))) or 0


def counts(ws: Workspace) -> tuple[int, int, int]:
    with ws.db() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(t)) for t in (StageRun, Event, Job)
        )


def test_english_edit_is_reviewed_keeps_the_rest_and_reruns_only_downstream(
    item: tuple[Workspace, str], fake: FakeTranslator
) -> None:
    ws, item_id = item
    start = last_run(ws)
    edit = edits.edit_segment(
        ws, Queue(), item_id, 1, "english", "  We were sent\nuntrained. ", by="anna"
    )
    segs = current(ws, item_id, "translation.json")["segments"]
    assert segs[1]["text"] == "We were sent untrained."
    assert segs[1]["reviewed"] is True and segs[1]["reviewed_by"] == "anna"
    assert [s["text"] for s in segs[::2]] == [ENGLISH[SOURCES[0]], ENGLISH[SOURCES[2]]]
    assert not segs[0]["reviewed"] and not segs[2]["reviewed"]
    assert runs_after(ws, start) == [("translate", "person")]
    with ws.db() as session:
        job = session.get(Job, edit.job_id)
        assert job is not None and (job.kind, job.item_id, job.created_by) == (
            "process",
            item_id,
            "anna",
        )
        event = session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert event is not None and (event.kind, event.actor) == ("edited", "anna")
        detail = json.loads(event.detail_json)
        assert detail["before"] == ENGLISH[SOURCES[1]]
        assert detail["after"] == "We were sent untrained."
        assert (detail["old_sha256"], detail["new_sha256"]) == (edit.old_sha256, edit.new_sha256)
        assert queries.current_outputs(session, item_id)["translation.json"] == edit.new_sha256
    middle = last_run(ws)
    ws.process(item_id)
    assert [stage for stage, _ in runs_after(ws, middle)] == AFTER_TRANSLATE
    assert fake.requests == []  # nothing was translated again
    with ws.db() as session:
        vtt = ws.blobs.read_bytes(queries.current_outputs(session, item_id)["english.vtt"])
    assert "untrained" in vtt.decode()


def test_source_edit_retranslates_that_segment_only_and_keeps_reviewed_english(
    item: tuple[Workspace, str], fake: FakeTranslator
) -> None:
    ws, item_id = item
    edits.edit_segment(ws, Queue(), item_id, 0, "english", "We lack water.", by="anna")
    start = last_run(ws)
    edit = edits.edit_segment(
        ws, Queue(), item_id, 2, "source", "Командир молчит уже три дня.", by="boris"
    )
    transcript = current(ws, item_id, "transcript.json")
    assert transcript["segments"][2]["text"] == "Командир молчит уже три дня."
    assert [s["text"] for s in transcript["segments"][:2]] == list(SOURCES[:2])
    assert runs_after(ws, start) == [("transcribe", "person"), ("translate", "person")]
    with ws.db() as session:
        job = session.get(Job, edit.job_id)
        assert job is not None and job.kind == "edit"
        payload = json.loads(job.payload_json)
        assert "transcript.txt" in queries.current_outputs(session, item_id)
    middle = last_run(ws)
    edits.run_job(ws, job.id, item_id, payload, lambda stage, kind, done, total: None)
    assert [r.text for r in fake.requests] == ["Командир молчит уже три дня."]
    assert fake.requests[0].before == SOURCES[:2]  # the neighbours as context, as in the stage
    segs = current(ws, item_id, "translation.json")["segments"]
    assert [s["text"] for s in segs] == [
        "We lack water.",
        ENGLISH[SOURCES[1]],
        "The commander has been silent for three days.",
    ]
    assert [s["reviewed"] for s in segs] == [True, False, False]
    added = runs_after(ws, middle)
    assert added[0] == ("translate", "fake")
    assert [stage for stage, _ in added[1:]] == AFTER_TRANSLATE
    edits.run_job(ws, job.id, item_id, payload, lambda stage, kind, done, total: None)
    assert len(runs_after(ws, middle)) == len(added)  # run again (a restart): nothing new


def test_english_reviewed_after_a_source_edit_is_not_translated_over(
    item: tuple[Workspace, str], fake: FakeTranslator
) -> None:
    ws, item_id = item
    edits.edit_segment(ws, Queue(), item_id, 2, "source", "Командир молчит уже три дня.", by="b")
    edits.edit_segment(ws, Queue(), item_id, 2, "english", "He's been silent 3 days.", by="a")
    assert not edits.retranslate(ws, item_id, 2)
    assert current(ws, item_id, "translation.json")["segments"][2]["text"] == (
        "He's been silent 3 days."
    )


def test_a_person_english_carries_fidelity_flags(item: tuple[Workspace, str]) -> None:
    ws, item_id = item
    edits.edit_segment(ws, Queue(), item_id, 1, "english", "We were sent there 96 times.", by="a")
    assert current(ws, item_id, "translation.json")["segments"][1]["flags"] == ["numbers"]


@pytest.mark.parametrize(
    ("number", "field", "text", "says"),
    [
        (1, "english", "   ", "empty"),
        (1, "english", "x" * 2001, "2,001 characters"),
        (7, "english", "Fine.", "no segment 7"),
        (-1, "source", "Fine.", "no segment -1"),
        (1, "title", "Fine.", "Unknown field"),
    ],
)
def test_bad_edits_are_refused_and_store_nothing(
    item: tuple[Workspace, str], number: int, field: str, text: str, says: str
) -> None:
    ws, item_id = item
    before = counts(ws)
    with pytest.raises(InputError, match=says):
        edits.edit_segment(ws, Queue(), item_id, number, field, text, by="anna")
    assert counts(ws) == before


def test_markup_is_stored_as_text(item: tuple[Workspace, str]) -> None:
    ws, item_id = item
    text = '<script>alert("x")</script> & <b>water</b>'
    edits.edit_segment(ws, Queue(), item_id, 0, "english", text, by="anna")
    assert current(ws, item_id, "translation.json")["segments"][0]["text"] == text


def test_unchanged_source_changes_nothing(item: tuple[Workspace, str]) -> None:
    ws, item_id = item
    before = counts(ws)
    edit = edits.edit_segment(ws, Queue(), item_id, 0, "source", SOURCES[0], by="anna")
    assert edit.job_id is None and edit.old_sha256 == edit.new_sha256
    assert counts(ws) == before


def test_edit_while_a_job_runs_is_written_at_once_and_queued_after(
    item: tuple[Workspace, str],
) -> None:
    ws, item_id = item
    with ws.db.begin() as session:
        running = Job(kind="process", item_id=item_id, status="running")
        session.add(running)
    edit = edits.edit_segment(ws, Queue(), item_id, 0, "english", "We lack water.", by="anna")
    assert current(ws, item_id, "translation.json")["segments"][0]["text"] == "We lack water."
    with ws.db() as session:
        queued = session.get(Job, edit.job_id)
        assert queued is not None and queued.status == "queued" and queued.id > running.id


def test_simultaneous_edits_of_one_item_both_survive(item: tuple[Workspace, str]) -> None:
    ws, item_id = item
    errors: list[BaseException] = []

    def edit(n: int) -> None:
        try:
            edits.edit_segment(ws, Queue(), item_id, n, "english", f"Edited {n}.", by=f"u{n}")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    segs = current(ws, item_id, "translation.json")["segments"]
    assert [s["text"] for s in segs] == ["Edited 0.", "Edited 1.", "Edited 2."]


def test_person_runs_are_keyed_as_the_runner_keys_them(item: tuple[Workspace, str]) -> None:
    ws, item_id = item
    edits.edit_segment(ws, Queue(), item_id, 1, "source", "Нас отправили без учёбы.", by="a")
    stages = {s.name: s for s in runner.STAGES}
    with ws.db() as session:
        inputs = queries.current_outputs(session, item_id)
        for run in queries.latest_runs(session, item_id):
            if run.stage in ("transcribe", "translate"):
                assert run.engine == "person"
                assert run.input_key == runner._input_key(stages[run.stage], inputs, ws.settings)


def test_a_text_item_source_edit_is_a_run_of_the_text_stage(
    settings: Settings, tmp_path: Path, fake: FakeTranslator
) -> None:
    post = tmp_path / "post.txt"
    post.write_text(" ".join(SOURCES), encoding="utf-8")
    ws = Workspace.open(settings)
    try:
        item_id = ingest_text(ws.db, ws.blobs, ws.settings, post, "ru").item_id
        ws.process(item_id)
        start = last_run(ws)
        edit = edits.edit_segment(
            ws, Queue(), item_id, 2, "source", "Командир молчит уже три дня.", by="boris"
        )
        assert runs_after(ws, start) == [("text", "person"), ("translate", "person")]
        with ws.db() as session:
            job = session.get(Job, edit.job_id)
            assert job is not None and job.kind == "edit"
        edits.run_job(ws, job.id, item_id, {"segment": 2}, lambda s, k, d, t: None)
        segs = current(ws, item_id, "translation.json")["segments"]
        assert segs[2]["text"] == "The commander has been silent for three days."
        assert [s for s, _ in runs_after(ws, start)] == [
            "text", "translate", "translate", "subtitles", "analyse",
        ]  # fmt: skip
    finally:
        ws.close()
