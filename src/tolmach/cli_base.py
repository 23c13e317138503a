"""What every command module shares: the Typer app, error handling, settings and output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from tolmach import log
from tolmach.config import Settings
from tolmach.errors import ConfigError, TolmachError
from tolmach.pipeline.ingest import Ingested
from tolmach.workspace import Workspace

app = typer.Typer(
    help="Preserve, transcribe, translate and subtitle video statements.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Install, list and verify models.", no_args_is_help=True)
subs_app = typer.Typer(help="Subtitle tools.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(subs_app, name="subtitles")
out = Console()
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def handled(fn: F) -> F:
    """Turn a TolmachError into one clear message and its exit code, with no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TolmachError as exc:
            err.print(f"[bold red]error:[/] {exc.message}", highlight=False, markup=True)
            if exc.hint:
                err.print(f"[yellow]what to do:[/] {exc.hint}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted: nothing half-done was recorded; run the same command again.")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


_overrides: dict[str, Any] = {}


@app.callback()
def main_options(
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (db, blobs, models).")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log details.")] = False,
) -> None:
    _overrides.clear()
    if data_dir is not None:
        _overrides["data_dir"] = data_dir
    log.setup(verbose)


def load_settings(**extra: Any) -> Settings:
    values = {k: v for k, v in {**_overrides, **extra}.items() if v is not None}
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"Invalid setting: {problems}.", "See docs/settings.md for the allowed values."
        ) from None


def workspace(**extra: Any) -> Workspace:
    return Workspace.open(load_settings(**extra))


def emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def report_ingested(ingested: Ingested, as_json: bool, noun: str = "item") -> None:
    """What ``ingest`` prints: warnings (also in the JSON), the item id and whether it is new."""
    for warning in ingested.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if as_json:
        emit(
            {
                "item_id": ingested.item_id,
                "new": ingested.new_item,
                "capture": ingested.record,
                "warnings": list(ingested.warnings),
            }
        )
    else:
        state = f"new {noun}" if ingested.new_item else "already stored; new capture record"
        out.print(f"{ingested.item_id}  {state}")
