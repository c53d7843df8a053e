"""Paper execution's settings and constants. Pure: no database, Flask or network."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

MODE = "paper"
# One portfolio currency. Stablecoins count as dollars; any other quote currency is rejected,
# because Photon has no FX source to convert it honestly.
CURRENCY = "USD"
USD_EQUIVALENTS = frozenset({"USD", "USDT", "USDC"})


@dataclass(frozen=True)
class PaperSettings:
    """Every knob of paper execution. Defaults come from ``PHOTON_PAPER_*``; a user's portfolio
    may override any of them (``Portfolio.settings``)."""

    starting_cash: float = 10_000.0
    fee_crypto: float = 0.001  # per side, as a fraction of notional
    fee_stock: float = 0.0
    slippage: float = 0.0005  # applied to the last price when there is no bid/ask
    max_quote_age: float = 300.0  # seconds
    position_fraction: float = 0.1  # of equity per BUY, before scaling by confidence
    max_position_pct: float = 0.25  # of equity, per symbol
    max_positions: int = 10
    daily_loss_pct: float = 0.05  # of the day's starting equity
    cooldown: float = 3600.0  # seconds between fills on one symbol

    @classmethod
    def from_config(cls, config: Any) -> PaperSettings:
        """From ``photon.config.Settings`` (its ``paper_*`` fields)."""
        return cls(**{f.name: getattr(config, f"paper_{f.name}") for f in fields(cls)})

    def with_overrides(self, overrides: dict[str, Any] | None) -> PaperSettings:
        """These settings with a user's overrides; unknown keys are ignored, not trusted."""
        if not overrides:
            return self
        known = {f.name: f.type for f in fields(self)}
        clean = {}
        for key, value in overrides.items():
            if key in known and isinstance(value, int | float) and not isinstance(value, bool):
                clean[key] = int(value) if key == "max_positions" else float(value)
        return replace(self, **clean)

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
