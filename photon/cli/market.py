"""``flask photon backfill``: history into the bars table, resumable."""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import select

from photon import marketdata
from photon.cli import photon_cli
from photon.errors import PhotonError
from photon.extensions import db
from photon.market.symbols import resolve
from photon.market.types import INTERVALS
from photon.models import Symbol
from photon.providers import describe, get_providers


def symbol_row(raw: str) -> Symbol:
    """The stored instrument for ``raw``, created (after asking the provider) if new."""
    resolved = resolve(raw)
    symbol = db.session.scalars(select(Symbol).where(Symbol.ticker == resolved.ticker)).first()
    if symbol is None:
        info = describe(resolved)
        symbol = Symbol(ticker=info.ticker, asset_class=info.asset_class, source=info.source,
                        name=info.name, currency=info.currency, exchange=info.exchange)
        db.session.add(symbol)
        db.session.commit()
    return symbol


@photon_cli.command("backfill")
@click.argument("symbol")
@click.option("--interval", type=click.Choice(INTERVALS), default="1h", show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True)
def backfill(symbol: str, interval: str, days: int) -> None:
    """Back-fill SYMBOL's bars for the last DAYS days; a rerun resumes where it stopped."""
    try:
        row = symbol_row(symbol)
        end = get_providers().market_now(row.source, row.ticker)
        start = end - timedelta(days=days)
        provider = get_providers().for_source(row.source)
        before = marketdata.bar_span(db.session, row.id, interval)[2]
        total = int((end - start).total_seconds())
        with click.progressbar(length=total, label=f"{row.ticker} {interval}") as bar:
            written = marketdata.backfill(
                db.session, provider, row, interval, start, end,
                progress=lambda lo, hi, n: bar.update(int((hi - lo).total_seconds())),
            )
            bar.update(total)
    except PhotonError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    first, last, count = marketdata.bar_span(db.session, row.id, interval)
    click.echo(f"{row.ticker} {interval}: fetched {written} bars; stored {count} "
               f"({count - before} new), from {first} to {last}")
