"""``flask photon backfill``: history into the bars table, resumable."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from photon.agents.backfill import backfill
from photon.cli import photon_cli, quiet_provider_retries, unmigrated
from photon.errors import PhotonError
from photon.extensions import db
from photon.market.symbols import resolve
from photon.models import Symbol
from photon.providers import describe, get_providers
from photon.store import symbols
from photon.store.bars import bar_span
from photon.types import INTERVALS


def symbol_row(raw: str) -> Symbol:
    """The stored instrument for ``raw``, created (after asking the provider) if new."""
    resolved = resolve(raw)
    symbol = symbols.by_ticker(db.session, resolved.ticker)
    if symbol is None:
        symbol = symbols.get_or_create(db.session, describe(resolved))
        db.session.commit()
    return symbol


@photon_cli.command("backfill")
@click.argument("symbol")
@click.option(
    "--interval",
    type=click.Choice(INTERVALS),
    default="1h",
    show_default=True,
    help="Bar interval to store",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=365,
    show_default=True,
    help="How far back from now to fill",
)
def backfill_command(symbol: str, interval: str, days: int) -> None:
    """Back-fill SYMBOL's bars for the last DAYS days; a rerun resumes where it stopped.

    SYMBOL is what you would type in the API (BTC, AAPL, eth/usdt). In replay mode "now" is
    the replay's current bar, and only the bundled history before it exists.
    """
    quiet_provider_retries()
    why = unmigrated()
    if why:
        raise click.ClickException(why)
    try:
        row = symbol_row(symbol)
        end = get_providers().market_now(row.source, row.ticker)
        start = end - timedelta(days=days)
        provider = get_providers().for_source(row.source)
        before = bar_span(db.session, row.id, interval)[2]
        total = int((end - start).total_seconds())
        with click.progressbar(length=total, label=f"{row.ticker} {interval}") as bar:
            written = backfill(
                db.session,
                provider,
                row,
                interval,
                start,
                end,
                progress=lambda lo, hi, n: bar.update(int((hi - lo).total_seconds())),
            )
            bar.update(total)
    except PhotonError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    first, last, count = bar_span(db.session, row.id, interval)
    click.echo(
        f"{row.ticker} {interval}: fetched {written} bars; stored {count} "
        f"({count - before} new), from {first} to {last}"
    )
    shortfall = _shortfall(row, interval, start, first)
    if shortfall:
        click.echo(shortfall)


def _shortfall(row: Symbol, interval: str, start: datetime, first: datetime | None) -> str | None:
    """Why fewer days are stored than were asked for, when that is so."""
    slack = timedelta(days=4) if interval == "1d" else timedelta(seconds=2 * 3600)
    if first is not None and first <= start + slack:
        return None
    asked = f"asked from {start:%Y-%m-%d %H:%M}"
    provider = get_providers().for_source(row.source)
    if getattr(provider, "name", "") == "replay":
        return (
            f"Stored less than asked ({asked}): replay serves only the bundled {row.ticker} "
            f"history, which begins {provider.first_time(row.ticker):%Y-%m-%d %H:%M} UTC "
            "and ends at the replay's current bar."
        )
    if first is None:
        return f"Stored nothing ({asked}): {row.source} returned no {interval} bars."
    return (
        f"Stored less than asked ({asked}): {row.source} has no {interval} bars for "
        f"{row.ticker} before {first:%Y-%m-%d %H:%M} UTC (its history or listing starts "
        "there, or the venue keeps no older bars at this interval)."
    )
