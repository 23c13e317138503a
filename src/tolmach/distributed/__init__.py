"""Running the pipeline on Celery workers (``job_runner = "celery"``), the stage functions
unchanged: a desk job becomes one task per stage of its item, each on its queue (``asr`` for
transcription, ``cpu`` for the rest), claimed in the database while it runs (``claims``),
acknowledged late so that a task a dead worker held is delivered again (``app``), and the next
stage queued when one is recorded (``tasks``, ``dispatch``)."""
