"""The Celery app, made from settings when a process needs it (never at import time).

    app = make_app(settings)                 # a sender: the desk, `tolmach run --submit`
    app = make_app(settings, worker=True)    # `tolmach worker`: the tasks registered too

Tasks are acknowledged late (after they end), so the broker delivers a task again when the
worker that took it dies; with Redis that happens once ``broker_visibility_s`` has passed, so
it must be longer than any stage takes (a stage delivered again while it still runs waits for
its claim; see :mod:`tolmach.distributed.claims`). A worker takes one task at a time.
Transcription goes to the ``asr`` queue (GPU machines), everything else to ``cpu``.
"""

from __future__ import annotations

from celery import Celery  # type: ignore[import-untyped]

from tolmach.config import Settings

QUEUES = ("asr", "cpu")
JOB_TASK = "tolmach.job"
STAGE_TASK = "tolmach.stage"


def queue_of(stage: str) -> str:
    """The queue a stage's task goes to."""
    return "asr" if stage == "transcribe" else "cpu"


def make_app(settings: Settings, worker: bool = False) -> Celery:
    """A Celery app on ``settings.broker_url``; with ``worker`` the tasks are registered."""
    app = Celery("tolmach", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="cpu",
        task_create_missing_queues=True,  # asr and cpu, as routed by queue_of
        broker_transport_options={"visibility_timeout": settings.broker_visibility_s},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=10,
        worker_hijack_root_logger=False,
    )
    if worker:
        from tolmach.distributed import tasks

        tasks.register(app, settings)
    return app


_senders: dict[str, Celery] = {}


def sender(settings: Settings) -> Celery:
    """A Celery app for sending tasks, one per broker in a process (it keeps a connection)."""
    app = _senders.get(settings.broker_url)
    if app is None:
        app = _senders[settings.broker_url] = make_app(settings)
    return app
