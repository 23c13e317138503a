"""Web desk commands: ``serve`` runs the desk, ``users`` manages its accounts."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer

from tolmach.cli_base import app, err, handled, load_settings, out, workspace
from tolmach.errors import InputError
from tolmach.web import auth

users_app = typer.Typer(help="Accounts of the web desk.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
@handled
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the web desk (review, verify, search, publish) on this machine."""
    import uvicorn

    from tolmach.web.app import create_app

    settings = load_settings(web_host=host, web_port=port)
    err.print(f"tolmach desk on http://{settings.web_host}:{settings.web_port}/")
    uvicorn.run(
        create_app(settings),
        host=settings.web_host,
        port=settings.web_port,
        log_level="warning",
        proxy_headers=False,
    )


def _password(name: str) -> str:
    """From TOLMACH_PASSWORD (for scripts) or asked twice on the terminal."""
    given = os.environ.get("TOLMACH_PASSWORD")
    if given:
        return given
    first = getpass.getpass(f"Password for {name}: ")
    if first != getpass.getpass("Again: "):
        raise InputError("The two passwords differ.")
    return first


@users_app.command("add")
@handled
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
) -> None:
    """Create an account (the password is asked for, or read from TOLMACH_PASSWORD)."""
    ws = workspace()
    with ws.db.begin() as session:
        user = auth.add_user(session, name, role, _password(name))
        out.print(f"{user.name}  {user.role}")
