"""The Decision-Making agent's pure core: features, model, rules, decisions and scoring.

Nothing here touches the DB or Flask; jobs load bars into a frame, call ``decide`` and store the
``Decision``. See ``decide.py`` for the no-lookahead contract and ``model.py`` for how the model
is trained and calibrated.
"""

from photon.agents.decision.core import Decision, decide, decide_many
from photon.agents.decision.features import FEATURE_NAMES, MIN_BARS, compute_features
from photon.agents.decision.model import MIN_TRAIN_ROWS, ModelConfig, TrainedModel, train
from photon.agents.decision.scoring import score

__all__ = [
    "FEATURE_NAMES",
    "MIN_BARS",
    "MIN_TRAIN_ROWS",
    "Decision",
    "ModelConfig",
    "TrainedModel",
    "compute_features",
    "decide",
    "decide_many",
    "score",
    "train",
]
