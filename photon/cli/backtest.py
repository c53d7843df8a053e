"""``flask photon backtest``: a strategy over stored (or bundled) history."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click
from flask import current_app

from photon.agents.decision import ModelConfig
from photon.agents.decision.agent import (
    HORIZON_BARS,
    RETRAIN_EVERY_BARS,
    decision_interval,
    frame,
)
from photon.backtest.engine import (
    STRATEGIES,
    run_backtest,
    write_decisions_csv,
    write_equity_csv,
)
from photon.cli import photon_cli, quiet_provider_retries, unmigrated
from photon.cli.market import symbol_row
from photon.errors import PhotonError, ProviderError
from photon.extensions import db
from photon.market.replay import bundled
from photon.market.symbols import resolve
from photon.store.bars import stored_bars
from photon.types import AssetClass

MIN_STORED = 200


def _bars(ticker_raw: str, source: str):
    """Stored bars when there are enough, else the bundled real history for that ticker."""
    resolved = resolve(ticker_raw)
    interval = "1h" if resolved.asset_class == AssetClass.CRYPTO else "1d"
    if source in ("auto", "db"):
        symbol, why = None, unmigrated()
        if why is None:
            try:
                symbol = symbol_row(ticker_raw)
            except ProviderError as exc:
                if source == "db":
                    raise
                why = exc.message
        elif source == "db":
            raise click.ClickException(why)
        if why:
            # Offline, the provider down, or no database yet: the bundled history still answers.
            click.echo(f"{why}; using the bundled history instead")
        if symbol is not None:
            interval = decision_interval(symbol)
            rows = stored_bars(db.session, symbol.id, interval)
            if len(rows) >= MIN_STORED or source == "db":
                return frame(rows), interval, f"database ({len(rows)} bars)"
    if (resolved.ticker, interval) not in bundled.bundled_series():
        raise click.ClickException(
            f"Too few stored bars for {resolved.ticker} and no bundled history; run "
            f"`flask photon backfill {resolved.ticker} --interval {interval}` first"
        )
    df = bundled.load_bundled(resolved.ticker, interval)
    return df, interval, f"bundled history ({len(df)} bars)"


def _date(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@photon_cli.command("backtest")
@click.argument("symbol")
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default="model",
    show_default=True,
    help="What decides the trades (see above)",
)
@click.option("--start", help="ISO date; earlier bars only warm up indicators and train models")
@click.option("--end", help="ISO date; later bars are dropped before anything runs")
@click.option("--cash", type=float, default=10_000, show_default=True, help="Starting cash")
@click.option(
    "--commission",
    type=float,
    default=0.002,
    show_default=True,
    help="Fee per side, as a fraction of the traded value",
)
@click.option(
    "--data",
    "source",
    type=click.Choice(("auto", "db", "bundled")),
    default="auto",
    show_default=True,
    help="db: stored bars; bundled: the history shipped with Photon; auto: stored "
    "bars when there are 200 or more, else bundled (also when the provider is "
    "unreachable)",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Equity curve CSV (default: instance/backtests/backtest-SYMBOL-STRATEGY.csv)",
)
@click.option(
    "--decisions-out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write every out-of-sample decision (model, rules) as CSV: bar_time, action, "
    "confidence, p_up, p_down, p_flat, price, horizon_bars, cost, model",
)
def backtest(
    symbol: str,
    strategy: str,
    start: str | None,
    end: str | None,
    cash: float,
    commission: float,
    source: str,
    out: str | None,
    decisions_out: str | None,
) -> None:
    """Backtest a strategy on SYMBOL and write the equity curve as CSV.

    Strategies: model (walk-forward LightGBM, retrained on past bars only every 21 daily or 168
    hourly bars, as live), rules (the calibrated rules ensemble) and sma-cross (SMA 10/20, as
    backtesting.py's SmaCross). Orders fill at the next bar's open with COMMISSION per side.
    """
    quiet_provider_retries()
    try:
        df, interval, origin = _bars(symbol, source)
        crypto = resolve(symbol).asset_class == AssetClass.CRYPTO
        click.echo(f"{resolve(symbol).ticker} {interval} from {origin}")
        with click.progressbar(length=1000, label=strategy) as bar:
            done = [0]

            def progress(fraction: float) -> None:
                step = int(fraction * 1000) - done[0]
                if step > 0:
                    bar.update(step)
                    done[0] += step

            result = run_backtest(
                df,
                strategy,
                cash=cash,
                commission=commission,
                start=_date(start),
                end=_date(end),
                progress=progress,
                config=ModelConfig(horizon=HORIZON_BARS[interval]),
                retrain_every=RETRAIN_EVERY_BARS[interval],
                lot=1e-6 if crypto else 1.0,
            )
        if decisions_out and result.decisions is None:
            raise click.ClickException(f"--decisions-out: {strategy} makes no decisions")
    except (PhotonError, ValueError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from exc
    click.echo(result.summary())
    path = out or default_output(f"backtest-{resolve(symbol).ticker}-{strategy}.csv")
    write_equity_csv(result, path)
    click.echo(f"equity curve: {path}")
    if decisions_out:
        n = write_decisions_csv(result, decisions_out)
        click.echo(f"decisions: {decisions_out} ({n} out of sample)")


def default_output(name: str) -> str:
    """``instance/backtests/<name>``: git-ignored, beside the database."""
    folder = os.path.join(current_app.instance_path, "backtests")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)
