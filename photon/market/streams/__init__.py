"""Venue push feeds, no Flask: one client per venue (``bybit``, ``yahoo``, ``replay``) turning
pushes into ``Quote`` and ``Bar`` values for a sink (``photon.tasks.stream`` wires them up).

The WebSocket clients are the vendors' own (pybit's ``unified_trading.WebSocket``, yfinance's
``AsyncWebSocket``); these modules point them at a URL, keep one connection per venue alive, and
parse what arrives. The vendor library is imported by its module only, so a replay never loads
pybit or yfinance.
"""
