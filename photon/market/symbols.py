"""Turn what a user types into one canonical instrument, and pick its data source.

``BTC``, ``btcusdt``, ``eth/usdt`` and ``BTC-USD`` are crypto pairs on Bybit (``BTCUSDT``);
``AAPL`` is a stock on Yahoo; ``^GSPC`` is an index on Yahoo; ``BRK.B`` is written ``BRK-B`` the
way Yahoo spells class shares. Whether the provider really knows the ticker is a separate question,
answered by ``Provider.describe``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from photon.errors import Invalid
from photon.types import AssetClass, Source

MAX_LENGTH = 20
# What a request may carry before surrounding spaces are stripped (the spec's maxLength).
MAX_RAW_LENGTH = 64

# Bases common enough that a bare ``SOL`` means the crypto pair, not a stock ticker.
CRYPTO_BASES = frozenset(
    "BTC ETH BNB SOL XRP ADA DOGE TRX DOT MATIC POL LTC AVAX LINK ATOM XLM BCH ETC NEAR APT ARB OP "
    "SUI TON SHIB PEPE UNI AAVE FIL ICP HBAR VET MKR INJ RNDR TIA SEI WLD".split()
)
CRYPTO_QUOTES = ("USDT", "USDC")

_ALLOWED = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=/]*$")
_PAIR_SEPARATORS = re.compile(r"[/\-_]")
# Yahoo spells share classes with a dash; other dotted suffixes (SAP.DE, 7203.T) are exchanges.
_SHARE_CLASS = re.compile(r"^([A-Z]{1,5})\.([AB])$")


@dataclass(frozen=True)
class Resolved:
    ticker: str
    asset_class: str
    source: str


def resolve(raw: str) -> Resolved:
    """Normalise ``raw``; raises ``Invalid`` for empty, over-long or ill-formed input."""
    if not isinstance(raw, str):
        raise Invalid("Symbol must be a string", errors={"symbol": ["Not a string."]})
    if len(raw) > MAX_RAW_LENGTH:
        raise Invalid(
            f"Symbol is longer than {MAX_LENGTH} characters",
            errors={"symbol": [f"At most {MAX_LENGTH} characters."]},
        )
    text = raw.strip().upper()
    if not text:
        raise Invalid("Symbol is empty", errors={"symbol": ["Must not be empty."]})
    if len(text) > MAX_LENGTH:
        raise Invalid(
            f"Symbol is longer than {MAX_LENGTH} characters",
            errors={"symbol": [f"At most {MAX_LENGTH} characters."]},
        )
    if not _ALLOWED.match(text) or text.count("^") > 1:
        raise Invalid(
            f"Symbol {raw.strip()!r} has characters a ticker cannot have",
            errors={"symbol": ["Use letters, digits and . - = ^ / only."]},
        )

    crypto = _as_crypto_pair(text)
    if crypto:
        return Resolved(crypto, AssetClass.CRYPTO, Source.BYBIT)
    if "/" in text:
        raise Invalid(
            f"{raw.strip()!r} is not a known crypto pair",
            errors={"symbol": ["Pairs are written BASE/USDT or BASEUSDT."]},
        )
    if text.startswith("^"):
        return Resolved(text, AssetClass.INDEX, Source.YAHOO)
    share_class = _SHARE_CLASS.match(text)
    if share_class:
        text = f"{share_class.group(1)}-{share_class.group(2)}"
    return Resolved(text, AssetClass.STOCK, Source.YAHOO)


def _as_crypto_pair(text: str) -> str | None:
    if text in CRYPTO_BASES:
        return f"{text}USDT"
    parts = [p for p in _PAIR_SEPARATORS.split(text) if p]
    if len(parts) == 2:
        base, quote = parts
        if quote == "USD" and base in CRYPTO_BASES:
            # Yahoo's BTC-USD: the user means bitcoin, which Photon watches on Bybit.
            return f"{base}USDT"
        if quote in CRYPTO_QUOTES and base.isalnum():
            return f"{base}{quote}"
        return None
    for quote in CRYPTO_QUOTES:
        if text.endswith(quote) and len(text) > len(quote) and text.isalnum():
            return text
    return None
