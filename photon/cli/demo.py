"""``flask photon demo-account``: the ready account ``make demo`` logs you in with."""

from __future__ import annotations

import click
from flask import current_app

from photon import providers, security
from photon.cli import photon_cli
from photon.extensions import db
from photon.store import agent_status, users, watchlist
from photon.tasks.stream import signals
from photon.types import Agent

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "photon-demo-1"
DEMO_SYMBOLS = ("BTCUSDT", "ETHUSDT", "AAPL", "MSFT")


@photon_cli.command("demo-account")
@click.option("--username", default=DEMO_USERNAME, show_default=True, help="Account name")
@click.option(
    "--password",
    default=DEMO_PASSWORD,
    show_default=True,
    help="Its password (published: replay mode only)",
)
def demo_account(username: str, password: str) -> None:
    """Create (or reuse) an account that watches BTCUSDT, ETHUSDT, AAPL and MSFT, with its
    market monitor, decision maker and paper execution started. Replay mode only: the account
    has a published password."""
    settings = current_app.config["PHOTON"]
    if settings.data_source != "replay" or settings.production:
        raise click.ClickException("demo-account is for replay mode outside production only")
    user = users.by_identity(db.session, username)
    if user is None:
        user = security.register(username, f"{username}@demo.invalid", password)
    for ticker in DEMO_SYMBOLS:
        watchlist.add(db.session, user.id, ticker, providers.describe)
    for agent in (Agent.MARKET_MONITOR, Agent.DECISION_MAKER, Agent.EXECUTION):
        agent_status.start(db.session, user.id, agent)
    db.session.commit()
    signals.watch_changed()  # a stream already running picks the account's symbols up
    click.echo(
        f"photon: demo account {username!r}, password {password!r}: it watches "
        f"{', '.join(DEMO_SYMBOLS)} and its three agents run"
    )
