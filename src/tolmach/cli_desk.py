"""Web desk commands: ``serve`` runs the desk, ``users`` manages its accounts."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated, Any

import typer

from tolmach.cli_base import JsonOpt, app, emit, err, handled, load_settings, out, workspace
from tolmach.errors import InputError
from tolmach.web import auth

users_app = typer.Typer(help="Accounts of the web desk.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
@handled
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    processes: Annotated[int | None, typer.Option(help="Server processes (web_processes).")] = None,
) -> None:
    """Run the web desk (review, verify, search, publish) on this machine."""
    from tolmach.web import server

    settings = load_settings(web_host=host, web_port=port, web_processes=processes)
    err.print(f"tolmach desk on http://{settings.web_host}:{settings.web_port}/")
    local = settings.web_host in ("127.0.0.1", "localhost", "::1")
    if not local and not settings.web_secure_cookies:
        err.print(
            "[yellow]warning:[/] the desk is reachable from other machines over plain HTTP: "
            "serve it behind HTTPS and set web_secure_cookies = true (docs/settings.md)."
        )
    server.run(settings)


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
        user = auth.add_user(session, name, role, _password(name), by=ws.settings.operator)
        out.print(f"{user.name}  {user.role}")


@users_app.command("list")
@handled
def users_list(json_out: JsonOpt = False) -> None:
    """List the desk's accounts."""
    ws = workspace()
    with ws.db() as session:
        rows: list[dict[str, Any]] = [
            {"name": u.name, "role": u.role, "disabled": u.disabled,
             "created_at": u.created_at.isoformat() + "Z"}
            for u in auth.list_users(session)
        ]  # fmt: skip
    if json_out:
        emit(rows)
        return
    if not rows:
        err.print("No accounts yet: add one with `tolmach users add NAME --role admin`.")
    for row in rows:
        state = "  disabled" if row["disabled"] else ""
        out.print(f"{row['name']}  {row['role']}  since {row['created_at'][:10]}{state}")


@users_app.command("disable")
@handled
def users_disable(name: str) -> None:
    """Disable an account: its sign-ins end and its API tokens stop working."""
    ws = workspace()
    with ws.db.begin() as session:
        user = auth.disable_user(session, name, by=ws.settings.operator)
        out.print(f"{user.name}  disabled")


@users_app.command("enable")
@handled
def users_enable(name: str) -> None:
    """Let a disabled account sign in again."""
    ws = workspace()
    with ws.db.begin() as session:
        user = auth.enable_user(session, name, by=ws.settings.operator)
        out.print(f"{user.name}  enabled")


@users_app.command("password")
@handled
def users_password(name: str) -> None:
    """Set an account's password (asked for, or read from TOLMACH_PASSWORD); its sign-ins end."""
    ws = workspace()
    with ws.db.begin() as session:
        user = auth.get_user(session, name)
        auth.set_password(session, user.name, _password(user.name), by=ws.settings.operator)
        out.print(f"{user.name}  password set")


@users_app.command("token")
@handled
def users_token(
    name: str,
    label: Annotated[str, typer.Option(help="What the token is for, e.g. 'archive sync'.")],
) -> None:
    """Make an API token for an account and print it (once: only its hash is kept)."""
    ws = workspace()
    with ws.db.begin() as session:
        token = auth.new_token(session, auth.get_user(session, name), label)
    sys.stdout.write(token + "\n")
