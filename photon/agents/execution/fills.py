"""Fill arithmetic: the price an order gets, its fee, and how much a BUY buys. Pure functions.

Prices are floats, like every price Photon stores. Quantities are rounded *down* to the asset's
step through ``Decimal``, so a rounded order never costs more than the cash it was sized from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal

from photon.agents.execution.settings import PaperSettings
from photon.types import Action, AssetClass

CRYPTO_STEP = 1e-6  # crypto trades in fractions; a millionth is finer than any venue's lot
STOCK_STEP = 1.0  # stocks trade in whole shares


def fill_price(
    side: str, last: float, bid: float | None, ask: float | None, slippage: float
) -> float:
    """Buys lift the ask and sells hit the bid when the quote has them; otherwise the last price
    moves against the trader by ``slippage`` (a fraction), since a real fill would too."""
    if side == Action.BUY:
        return ask if ask is not None and ask > 0 else last * (1.0 + slippage)
    if side == Action.SELL:
        return bid if bid is not None and bid > 0 else last * (1.0 - slippage)
    raise ValueError(f"side must be BUY or SELL, got {side!r}")


def fee_rate(asset_class: str, settings: PaperSettings) -> float:
    return settings.fee_crypto if asset_class == AssetClass.CRYPTO else settings.fee_stock


def fee(notional: float, rate: float) -> float:
    return notional * rate


def quantity_step(asset_class: str) -> float:
    return CRYPTO_STEP if asset_class == AssetClass.CRYPTO else STOCK_STEP


def round_down(quantity: float, step: float) -> float:
    """``quantity`` floored to a multiple of ``step`` (0.1234567 → 0.123456 for 1e-6)."""
    if quantity <= 0:
        return 0.0
    q, s = Decimal(repr(quantity)), Decimal(repr(step))
    return float((q / s).to_integral_value(rounding=ROUND_FLOOR) * s)


def buy_cost(quantity: float, price: float, rate: float) -> float:
    """Cash a BUY takes: notional plus its fee."""
    notional = quantity * price
    return notional + fee(notional, rate)


def buy_notional(equity: float, confidence: float, settings: PaperSettings) -> float:
    """The target size of a BUY: ``position_fraction`` of equity scaled by confidence (0..1),
    capped at ``max_position_pct`` of equity so no single order exceeds the position limit."""
    scale = min(max(confidence, 0.0), 1.0)
    fraction = min(settings.position_fraction * scale, settings.max_position_pct)
    return max(equity, 0.0) * fraction


def buy_quantity(
    target_notional: float, cash: float, price: float, rate: float, step: float
) -> float:
    """The quantity for ``target_notional``, capped by cash net of the fee, rounded down."""
    if price <= 0 or cash <= 0 or target_notional <= 0:
        return 0.0
    notional = min(target_notional, cash / (1.0 + rate))
    quantity = round_down(notional / price, step)
    # Float division can land a hair above what cash covers; step down until it fits.
    while quantity > 0 and buy_cost(quantity, price, rate) > cash:
        quantity = round_down(quantity - step, step)
    return quantity


# --- the ledger ---------------------------------------------------------------------------------
# Every fill goes through ``buy`` or ``sell``, so the money identity below holds by construction:
#
#     cash + Σ quantity·avg_price == starting_cash + realised_pnl − fees_paid
#
# Average prices are fill prices without fees; fees are booked apart in ``fees_paid``, and
# ``realised_pnl`` is gross (fill price minus average price, before fees).


@dataclass(frozen=True)
class Ledger:
    starting_cash: float
    cash: float
    realised_pnl: float = 0.0
    fees_paid: float = 0.0


@dataclass(frozen=True)
class Holding:
    quantity: float
    avg_price: float


def buy(
    ledger: Ledger, holding: Holding | None, quantity: float, price: float, rate: float
) -> tuple[Ledger, Holding, float]:
    """Pay notional plus fee; the position's average price blends in the fill price."""
    notional = quantity * price
    paid_fee = fee(notional, rate)
    held_qty = holding.quantity if holding else 0.0
    held_cost = held_qty * holding.avg_price if holding else 0.0
    new_qty = held_qty + quantity
    after = replace(
        ledger, cash=ledger.cash - (notional + paid_fee), fees_paid=ledger.fees_paid + paid_fee
    )
    return after, Holding(new_qty, (held_cost + notional) / new_qty), paid_fee


def sell(
    ledger: Ledger, holding: Holding, price: float, rate: float
) -> tuple[Ledger, float, float]:
    """Close the whole holding: receive notional minus fee, realise qty·(price − avg)."""
    notional = holding.quantity * price
    paid_fee = fee(notional, rate)
    pnl = holding.quantity * (price - holding.avg_price)
    after = replace(
        ledger,
        cash=ledger.cash + notional - paid_fee,
        realised_pnl=ledger.realised_pnl + pnl,
        fees_paid=ledger.fees_paid + paid_fee,
    )
    return after, paid_fee, pnl


def money_gap(ledger: Ledger, holdings: Iterable[Holding]) -> float:
    """How far the books are from the identity above; zero up to float rounding.

    (cash + Σ qty·avg_price) − (starting_cash + realised_pnl − fees_paid)
    """
    at_cost = sum(h.quantity * h.avg_price for h in holdings)
    return (ledger.cash + at_cost) - (ledger.starting_cash + ledger.realised_pnl - ledger.fees_paid)
