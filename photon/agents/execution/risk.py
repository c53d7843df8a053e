"""Risk checks run before every paper fill. Pure: each returns a rejection reason or None.

The executor stores a rejected order with the reason, so a user sees why nothing was bought.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from photon.agents.execution.settings import CURRENCY, USD_EQUIVALENTS
from photon.types import AssetClass

TRADEABLE = (AssetClass.STOCK, AssetClass.CRYPTO)
# Float sums (cash + Σ qty·price) may land a hair over an exact limit; do not reject for that.
TOLERANCE = 1e-9


def tradeable(asset_class: str, ticker: str) -> str | None:
    if asset_class not in TRADEABLE:
        return f"{ticker} is an {asset_class}, which cannot be traded"
    return None


def currency(code: str | None, ticker: str) -> str | None:
    """The portfolio is kept in USD; USDT and USDC count as USD. There is no FX source, so any
    other currency is rejected rather than converted at a made-up rate."""
    if code is None:
        return f"the quote for {ticker} names no currency; the paper portfolio is in {CURRENCY}"
    if code.upper() not in USD_EQUIVALENTS:
        return (
            f"{ticker} is quoted in {code}; the paper portfolio is in {CURRENCY} and Photon "
            f"has no FX rate to convert it"
        )
    return None


def quote_age(quote_ts: datetime | None, now: datetime, max_age: float, ticker: str) -> str | None:
    if quote_ts is None:
        return f"no stored quote for {ticker}"
    age = (now - quote_ts).total_seconds()
    if age > max_age:
        return (
            f"the latest quote for {ticker} is {age:.0f}s old (limit {max_age:.0f}s); "
            f"no fill at a stale price"
        )
    return None


def halted(halted_until: datetime | None, now: datetime) -> str | None:
    if halted_until is not None and now < halted_until:
        return (
            f"halted for the day: daily loss limit hit; no new buys until "
            f"{halted_until.isoformat()}"
        )
    return None


def daily_loss(day_start_equity: float | None, equity: float, limit_pct: float) -> str | None:
    """Loss is measured mark-to-market against the equity the day started with."""
    if not day_start_equity or day_start_equity <= 0:
        return None
    loss = (day_start_equity - equity) / day_start_equity
    if loss >= limit_pct - TOLERANCE:
        return (
            f"daily loss limit: equity {equity:.2f} is {loss:.2%} below the day's start "
            f"{day_start_equity:.2f} (limit {limit_pct:.2%})"
        )
    return None


def next_midnight(now: datetime) -> datetime:
    """The next UTC midnight: a halt lasts for the rest of the (UTC) day."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def cooldown(
    last_fill_at: datetime | None, now: datetime, seconds: float, ticker: str
) -> str | None:
    if last_fill_at is None or seconds <= 0:
        return None
    since = (now - last_fill_at).total_seconds()
    if since < seconds:
        return (
            f"cool-down: {ticker} last filled {since:.0f}s ago; the next order may fill "
            f"after {seconds:.0f}s"
        )
    return None


def max_positions(open_count: int, already_open: bool, limit: int) -> str | None:
    if not already_open and open_count >= limit:
        return f"max open positions: {open_count} open (limit {limit})"
    return None


def position_size(
    current_value: float, notional: float, equity: float, max_pct: float, ticker: str
) -> str | None:
    if equity <= 0:
        return "equity is not positive"
    share = (current_value + notional) / equity
    if share > max_pct + TOLERANCE:
        return f"max position: {ticker} would be {share:.2%} of equity (limit {max_pct:.2%})"
    return None


def has_position(quantity: float, ticker: str) -> str | None:
    if quantity <= 0:
        return f"no open {ticker} position to sell (paper trading never shorts)"
    return None
