"""``flask photon ...`` commands."""

from __future__ import annotations

import logging

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from photon.extensions import db

photon_cli = AppGroup(
    "photon",
    help="Photon's commands: back-fill history, backtest a strategy, list routes, "
    "and make the demo account.",
)


@photon_cli.command("routes")
def routes() -> None:
    """List the API routes with their methods."""
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        methods = ",".join(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        click.echo(f"{methods:20} {rule.rule}")


def quiet_provider_retries() -> None:
    """A command says in one line of its own when a provider fails; the retry lines before it
    are for the services' logs (still shown with PHOTON_LOG_LEVEL=DEBUG)."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("photon.market.retry").setLevel(logging.WARNING)


def unmigrated() -> str | None:
    """Why the database cannot answer yet, or None: a command run before the first ``make run``
    finds no tables, and says so instead of a traceback."""
    if sa.inspect(db.engine).has_table("symbols"):
        return None
    return (
        "the database has no tables yet (`make run` migrates it, or run "
        "`.venv/bin/flask --app photon.app:create_app db upgrade`)"
    )


def init_app(app: Flask) -> None:
    # The command modules attach themselves to photon_cli when imported.
    from photon.cli import backtest, demo, market  # noqa: F401

    app.cli.add_command(photon_cli)
