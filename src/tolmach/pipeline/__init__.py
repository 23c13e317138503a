"""The pipeline: one module per stage, run in order by ``runner``."""
