from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from photon.agents.decision.features import compute_features
from photon.agents.decision.model import (
    DOWN,
    FLAT,
    MIN_TRAIN_ROWS,
    UP,
    ModelConfig,
    TrainedModel,
    labels,
    train,
)
from photon.agents.decision.scoring import forward_return, score
from photon.backtest import frame_from_ohlcv
from photon.errors import Conflict, Invalid

CUT = 1400


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return frame_from_ohlcv(GOOG)


@pytest.fixture(scope="module")
def until(goog) -> datetime:
    return goog["open_time"].iloc[CUT].to_pydatetime()


@pytest.fixture(scope="module")
def model(goog, until) -> TrainedModel:
    return train(goog, until=until)


def _fingerprint(m: TrainedModel) -> tuple:
    return (m.version, m.booster.model_to_string(), m.calibrator, m.payoff, m.metrics)


def test_training_never_sees_rows_after_until(goog, until, model):
    cut = train(goog.iloc[: CUT + 1], until=until)
    assert _fingerprint(cut) == _fingerprint(model)
    # Wreck every bar after `until`: the model must not move.
    wrecked = goog.copy()
    for col in ("open", "high", "low", "close"):
        wrecked.loc[CUT + 1 :, col] = wrecked.loc[CUT + 1 :, col] * 10
    wrecked.loc[CUT + 1 :, "volume"] = 1.0
    assert _fingerprint(train(wrecked, until=until)) == _fingerprint(model)


def test_precomputed_features_give_the_same_model(goog, until, model):
    again = train(goog, until=until, features=compute_features(goog))
    assert _fingerprint(again) == _fingerprint(model)


def test_label_windows_end_at_or_before_until(goog, until, model):
    assert model.train_end <= until
    # The last labelled row is H bars before the last bar at `until`.
    assert model.train_end == until
    m = model.metrics
    fit, cal, test = m["fit_window"], m["calibration_window"], m["test_window"]
    # Calibrated out of fold on the fit rows (purged K-fold), tested after them.
    assert cal == fit
    assert fit[0] < fit[1] <= test[0] < test[1] <= until.isoformat()
    assert m["n_fit"] == m["n_calibration"] > m["n_test"] > 0


def test_deterministic(goog, until, model):
    assert _fingerprint(train(goog, until=until)) == _fingerprint(model)
    assert model.version.startswith("lgbm-")


def test_break_even_comes_from_the_training_labels(model):
    p = model.payoff
    for be in (p.breakeven_buy, p.breakeven_sell):
        assert 0 < be < 1
    # Break-even BUY: P(up) at which P(up) (g - cost) + (1 - P(up)) (l - cost) = 0.
    b = p.breakeven_buy
    assert b * (p.up_gain - p.cost) + (1 - b) * (p.not_up - p.cost) == pytest.approx(0, abs=1e-12)
    s = p.breakeven_sell
    net = s * (-p.down_gain - p.cost) + (1 - s) * (-p.not_down - p.cost)
    assert net == pytest.approx(0, abs=1e-12)
    assert sum(model.base_rates) == pytest.approx(1)


def test_probabilities_are_calibrated_out_of_sample(model):
    m = model.metrics
    assert len(m["test_reliability"]) == 10
    assert sum(b["n"] for b in m["test_reliability"]) == m["n_test"]
    assert 0 <= m["test_ece"] < 0.5
    assert m["test_brier"] > 0 and m["test_brier_base_rate"] > 0


def test_oos_metrics_are_reported_honestly(model):
    m = model.metrics
    for key in ("test_log_loss", "test_log_loss_prior", "test_accuracy", "test_hit_rate"):
        assert 0 <= m[key] < 10
    assert m["test_n_buy"] + m["test_n_sell"] + m["test_n_hold"] == m["n_test"]
    assert m["test_share_up"] + m["test_share_flat"] + m["test_share_down"] == pytest.approx(1)


def test_round_trip_through_bytes(goog, model):
    x = compute_features(goog).to_numpy()[-50:]
    back = TrainedModel.from_bytes(model.to_bytes())
    assert back.version == model.version
    assert (back.calibrator, back.payoff) == (model.calibrator, model.payoff)
    assert back.base_rates == model.base_rates
    assert back.metrics == model.metrics
    assert (back.train_start, back.train_end) == (model.train_start, model.train_end)
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))
    with pytest.raises(Invalid):
        TrainedModel.from_bytes(b"not a model")


def test_contributions_add_up_to_the_log_odds(goog, model):
    x = compute_features(goog).to_numpy()[-20:]
    contrib, bias = model.explain(x)
    p = model.raw_proba(x)  # TreeSHAP explains the booster, before calibration
    np.testing.assert_allclose(contrib.sum(axis=1) + bias, np.log(p[:, UP] / p[:, DOWN]), atol=1e-9)


def test_too_little_history_is_a_conflict(goog):
    short = goog.iloc[: MIN_TRAIN_ROWS + 20]  # 49 warm-up rows and H label rows are unusable
    with pytest.raises(Conflict, match="labelled bars"):
        train(short)


def test_labels_agree_with_scoring():
    cost = 0.004
    after = [101.0, 100.3, 100.0, 99.7, 99.5]
    fwd = np.array([forward_return(100.0, p) for p in after])
    assert labels(fwd, cost).tolist() == [UP, FLAT, FLAT, FLAT, DOWN]
    for p, y in zip(after, labels(fwd, cost), strict=True):
        assert score("BUY", 100.0, p, cost) is bool(y == UP)
        assert score("SELL", 100.0, p, cost) is bool(y == DOWN)
        assert score("HOLD", 100.0, p, cost) is bool(y == FLAT)


def test_config_horizon_is_respected(goog, until):
    m = train(goog, until=until, config=ModelConfig(horizon=10, cost=0.01))
    assert (m.horizon, m.cost) == (10, 0.01)
    assert m.train_end == until
    assert m.metrics["horizon"] == 10
