"""Test doubles that speak the real wire formats: ``FakeExchange`` is a local Bybit + Yahoo."""

from .exchange import FAULT_KINDS, FakeExchange, Fault

__all__ = ["FAULT_KINDS", "FakeExchange", "Fault"]
