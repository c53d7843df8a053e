"""Models, one module per concern; importing this package registers them all."""

from photon.models.agent import AgentStatus
from photon.models.decision import DecisionModel, TradingDecision
from photon.models.market import Bar, MarketData
from photon.models.paper import EquitySnapshot, PaperOrder, Portfolio, Position
from photon.models.symbol import Symbol, Watch
from photon.models.user import User

__all__ = [
    "AgentStatus",
    "Bar",
    "DecisionModel",
    "EquitySnapshot",
    "MarketData",
    "PaperOrder",
    "Portfolio",
    "Position",
    "Symbol",
    "TradingDecision",
    "User",
    "Watch",
]
