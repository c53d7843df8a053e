"""Test doubles that speak the real wire formats: ``FakeExchange`` is a local Bybit + Yahoo over
HTTP; ``bybit_ws.FakeBybitStream`` and ``yahoo_ws.FakeYahooStreamer`` are their streams."""

from .exchange import FAULT_KINDS, FakeExchange, Fault

__all__ = ["FAULT_KINDS", "FakeExchange", "Fault"]
