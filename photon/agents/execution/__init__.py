"""The Execution agent: BUY/SELL decisions become paper orders. **Paper only: no code path in
Photon sends an order to an exchange.**

``settings``, ``fills`` and ``risk`` are the pure part (no database); ``books`` reads the
portfolio and marks it; ``agent`` fills or rejects an order under a lock on the portfolio.
"""
