"""``flask photon ...`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

photon_cli = AppGroup("photon", help="Photon maintenance commands.")


@photon_cli.command("routes")
def routes() -> None:
    """List the API routes."""
    from flask import current_app

    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        methods = ",".join(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        click.echo(f"{methods:20} {rule.rule}")


def _register() -> None:
    from photon.cli import backtest, market  # noqa: F401  (commands attach to photon_cli)


_register()
