from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG
from hypothesis import given, settings
from hypothesis import strategies as st

from photon.agents.decision import rules
from photon.agents.decision.core import Decision, decide, decide_many
from photon.agents.decision.features import FEATURE_NAMES, MIN_BARS, compute_features
from photon.agents.decision.model import TrainedModel, train
from photon.backtest import frame_from_ohlcv
from photon.errors import Conflict, Invalid

PHRASE = re.compile(r"[^;:]+=[^;]+ (raised|lowered) the model's log-odds of a rise by \d+\.\d\d")
TRACK = re.compile(
    r"Track record: (decisions at this confidence \(\d\.\d-\d\.\d\) were right \d+ % of the "
    r"time \(n = \d+, out of sample\)|no out-of-sample decision had a confidence of "
    r"\d\.\d-\d\.\d \(n = 0\))\.$"
)
RIGHT_PROB = {"BUY": "up", "SELL": "down", "HOLD": "flat"}


@pytest.fixture(scope="module")
def goog() -> pd.DataFrame:
    return frame_from_ohlcv(GOOG)


@pytest.fixture(scope="module")
def model(goog) -> TrainedModel:
    return train(goog, until=goog["open_time"].iloc[1400].to_pydatetime())


def _at(df: pd.DataFrame, i: int) -> datetime:
    return df["open_time"].iloc[i].to_pydatetime()


def _wreck_after(df: pd.DataFrame, i: int) -> pd.DataFrame:
    out = df.copy()
    out.loc[i + 1 :, ["open", "high", "low", "close"]] *= 3.0
    out.loc[i + 1 :, "volume"] = 0.0
    return out


# Twelve cuts, from the first decidable bar to the end, inside and after the model's window.
CUTS = [MIN_BARS - 1, 120, 300, 555, 800, 1000, 1401, 1500, 1750, 1900, 2100, len(GOOG) - 2]


@pytest.mark.parametrize("use_model", [False, True])
@pytest.mark.parametrize("i", CUTS)
def test_no_lookahead_bit_identical(goog, model, use_model, i):
    m = model if use_model else None
    at = _at(goog, i)
    with_future = decide(goog, model=m, at=at)
    without = decide(goog.iloc[: i + 1], model=m, at=at)
    cut_no_at = decide(goog.iloc[: i + 1], model=m)
    wrecked = decide(_wreck_after(goog, i), model=m, at=at)
    assert with_future == without == cut_no_at == wrecked
    assert with_future.bar_time == at
    assert with_future.price == goog["close"].iloc[i]


@settings(max_examples=15, deadline=None)
@given(st.integers(MIN_BARS - 1, len(GOOG) - 2), st.integers(1, 400))
def test_no_lookahead_property(i, extra):
    df = frame_from_ohlcv(GOOG)
    at = _at(df, i)
    assert decide(df.iloc[: i + 1 + extra], model=None, at=at) == decide(
        df.iloc[: i + 1], model=None
    )


def test_at_between_bars_uses_the_last_bar_before(goog):
    at = _at(goog, 700) + timedelta(hours=5)
    assert decide(goog, model=None, at=at).bar_time == _at(goog, 700)


def test_rules_fallback_when_there_is_no_model(goog):
    d = decide(goog, model=None)
    assert (d.model, d.version) == ("rules", rules.VERSION)
    assert d.action in ("BUY", "SELL", "HOLD")
    total = sum(s["contribution"] for s in d.signals.values())
    assert d.reasoning.startswith(f"{d.action}: rules ensemble score {total:+.2f}")
    # The rules' confidence is a calibrated probability too: of the action's own outcome.
    assert sum(d.probabilities.values()) == pytest.approx(1.0)
    assert d.confidence == d.probabilities[RIGHT_PROB[d.action]]
    assert 0 < d.base_rate < 1
    assert TRACK.search(d.reasoning)


def test_rules_hold_confidence_is_p_flat_not_one_minus_score(goog):
    # rules-v1 said 1 - |score| for HOLD: the most conflicted state read 1.0, and such HOLDs
    # were right 5-15 % of the time. A HOLD is right when the price stays within the cost.
    x = compute_features(goog).to_numpy()
    score = rules.contributions(x).sum(axis=1)
    i = int(np.flatnonzero((score == 0) & (np.arange(len(x)) > 1200))[0])
    d = decide(goog, model=None, at=_at(goog, i))
    assert d.action == "HOLD"
    assert d.confidence == d.probabilities["flat"] < 0.5
    assert "no vote reaches" in d.reasoning and "Confidence = P(within)" in d.reasoning


def test_a_vote_without_an_edge_after_cost_becomes_hold(goog):
    x = compute_features(goog).to_numpy()
    votes = rules.actions(rules.contributions(x).sum(axis=1))
    held = []
    for i in np.flatnonzero(votes != 0)[::7]:
        if i >= MIN_BARS:
            d = decide(goog, model=None, at=_at(goog, int(i)))
            if d.action == "HOLD":
                held.append(d)
    assert held, "every vote beat break-even: the gate was never exercised"
    for d in held:
        assert "does not beat the" in d.reasoning and "so HOLD" in d.reasoning
        assert d.confidence == d.probabilities["flat"]


def test_model_decision_records_model_and_probabilities(goog, model):
    d = decide(goog, model=model)
    assert (d.model, d.version, d.horizon, d.cost) == ("lightgbm", model.version, 5, model.cost)
    p = d.probabilities
    assert sum(p.values()) == pytest.approx(1.0)
    assert d.confidence == p[RIGHT_PROB[d.action]]
    assert d.reasoning.startswith(f"{d.action}: calibrated P(rise > 0.40 % in 5 bars) = ")
    assert TRACK.search(d.reasoning)


def test_model_acts_only_beyond_break_even(goog, model):
    frames = {f"G{i}": goog.iloc[: i + 1] for i in range(1401, len(goog), 9)}
    be = {"BUY": model.payoff.breakeven_buy, "SELL": model.payoff.breakeven_sell}
    for d in decide_many(frames, lambda _t: model).values():
        if d.action != "HOLD":
            assert d.confidence > be[d.action]
        else:
            assert d.probabilities["up"] <= be["BUY"] and d.probabilities["down"] <= be["SELL"]


def test_reasoning_says_what_the_numbers_are(goog, model):
    rsi = compute_features(goog)["rsi_14"].to_numpy()
    i = int(np.flatnonzero(rsi < 30)[0])
    d = decide(goog, model=None, at=_at(goog, i))
    # The rules: each rule's vote, not a share of a score worded as a cause.
    assert f"RSI(14)={rsi[i]:.1f} (oversold) votes BUY (weight 1)" in d.reasoning
    for label in ("SMA(10)/SMA(50)", "MACD hist", "Bollinger %b"):
        assert label in d.reasoning
    # The model: TreeSHAP terms in its own units, the top three at most.
    m = decide(goog, model=model)
    top = sorted(m.signals.values(), key=lambda s: -abs(s["contribution"]))[:3]
    phrases = PHRASE.findall(m.reasoning)
    assert 1 <= len(phrases) <= 3
    assert "log-odds of a rise against a fall, before calibration" in m.reasoning
    for s in top:
        if abs(s["contribution"]) >= 0.005:
            assert s["label"] in m.reasoning


@pytest.mark.parametrize("use_model", [False, True])
def test_confidence_in_unit_interval_and_json_safe(goog, model, use_model):
    frames = {f"G{i}": goog.iloc[: i + 1] for i in range(MIN_BARS - 1, len(goog), 97)}
    out = decide_many(frames, (lambda _t: model) if use_model else None)
    for d in out.values():
        assert isinstance(d, Decision)
        assert 0.0 <= d.confidence <= 1.0
        assert list(d.signals) == list(FEATURE_NAMES)
        for s in d.signals.values():
            assert set(s) == {"value", "contribution", "label"}
            assert math.isfinite(s["value"]) and math.isfinite(s["contribution"])
        blob = json.dumps(d.to_dict(), allow_nan=False)
        assert json.loads(blob)["bar_time"] == d.bar_time.isoformat()


def test_decide_many_equals_decide(goog, model):
    frames = {"A": goog, "B": goog.iloc[:900], "C": goog.iloc[:30], "D": goog.iloc[:400]}
    models = {"A": model, "B": model, "D": None}
    out = decide_many(frames, models)
    assert list(out) == ["A", "B", "C", "D"]
    assert isinstance(out["C"], Conflict)
    for t in ("A", "B", "D"):
        assert out[t] == decide(frames[t], model=models[t])


def test_too_little_data_is_a_conflict(goog):
    with pytest.raises(Conflict, match=f"at least {MIN_BARS}"):
        decide(goog.iloc[: MIN_BARS - 1], model=None)
    with pytest.raises(Conflict):
        decide(goog, model=None, at=_at(goog, 0) - timedelta(days=1))
    with pytest.raises(Conflict):
        decide(goog.iloc[:0], model=None)


def test_malformed_input_is_invalid(goog):
    with pytest.raises(Invalid, match="timezone"):
        decide(goog, model=None, at=datetime(2010, 1, 1))
    with pytest.raises(Invalid, match="close"):
        decide(goog.drop(columns="close"), model=None)
    with pytest.raises(Invalid, match="open_time"):
        decide(goog.drop(columns="open_time"), model=None)
    broken = goog.copy()
    broken.loc[len(goog) - 1, "close"] = np.nan
    with pytest.raises(Invalid, match="not finite"):
        decide(broken, model=None)
