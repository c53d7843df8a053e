"""The ``flask photon`` commands behave offline: fallbacks say so, shortfalls say why, output
goes to a documented, git-ignored place, and every command explains itself in ``--help``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from photon.app import create_app
from photon.cli import photon_cli
from photon.extensions import db
from photon.models import Bar


def test_backtest_auto_falls_back_to_bundled_history_when_the_provider_is_unreachable(
    app_env, redis_client, tmp_path
):
    app = create_app({**app_env, "PHOTON_YAHOO_URL": "http://127.0.0.1:9"})
    app.instance_path = str(tmp_path)
    result = app.test_cli_runner().invoke(
        args=["photon", "backtest", "GOOG", "--strategy", "sma-cross"]
    )
    assert result.exit_code == 0, result.output
    fallback = [line for line in result.output.splitlines() if "bundled history instead" in line]
    assert len(fallback) == 1 and "yahoo is unavailable" in fallback[0]
    assert "GOOG 1d from bundled history" in result.output
    # The equity curve lands in the instance folder (git-ignored), and the output says where.
    written = tmp_path / "backtests" / "backtest-GOOG-sma-cross.csv"
    assert written.read_text().startswith("open_time,equity")
    assert f"equity curve: {written}" in result.output


def test_commands_before_the_first_migration_say_so_instead_of_a_traceback(
    app_env, redis_client, tmp_path
):
    app = create_app({**app_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.db'}"})
    app.instance_path = str(tmp_path)
    runner = app.test_cli_runner()
    backtest = runner.invoke(args=["photon", "backtest", "GOOG", "--strategy", "sma-cross"])
    assert backtest.exit_code == 0, backtest.output
    assert backtest.output.startswith(
        "the database has no tables yet (`make run` migrates it, or run `.venv/bin/flask --app "
        "photon.app:create_app db upgrade`); using the bundled history instead\n"
    )
    assert "GOOG 1d from bundled history" in backtest.output
    stored_only = runner.invoke(args=["photon", "backtest", "GOOG", "--data", "db"])
    backfill = runner.invoke(args=["photon", "backfill", "BTC"])
    for result in (stored_only, backfill):
        assert result.exit_code == 1 and result.exception is not None
        assert "Error: the database has no tables yet" in result.output
        assert "Traceback" not in result.output


def test_backfill_in_replay_says_why_it_stored_less_than_asked(app_env, redis_client):
    app = create_app({**app_env, "PHOTON_DATA_SOURCE": "replay"})
    result = app.test_cli_runner().invoke(
        args=["photon", "backfill", "BTC", "--interval", "1h", "--days", "365"]
    )
    assert result.exit_code == 0, result.output
    assert "Stored less than asked" in result.output
    assert "replay serves only the bundled BTCUSDT history" in result.output


def test_backfill_asked_within_the_history_reports_no_shortfall(app_env, redis_client):
    app = create_app({**app_env, "PHOTON_DATA_SOURCE": "replay"})
    result = app.test_cli_runner().invoke(
        args=["photon", "backfill", "BTC", "--interval", "1h", "--days", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "Stored less" not in result.output


@pytest.mark.parametrize("command", sorted(photon_cli.commands))
def test_every_command_has_useful_help(runner, command):
    result = runner.invoke(args=["photon", command, "--help"])
    assert result.exit_code == 0, result.output
    summary = photon_cli.commands[command].help or ""
    assert len(summary.split()) >= 4, f"{command} --help says too little: {summary!r}"
    assert " ".join(summary.split()[:5]) in " ".join(result.output.split())
    for option in photon_cli.commands[command].params:
        if option.param_type_name == "option":
            assert option.help, f"{command} {option.opts[0]} has no help text"


def test_backtest_command_prints_figures_and_writes_the_curve(runner, tmp_path):
    out = tmp_path / "curve.csv"
    result = runner.invoke(
        args=[
            "photon",
            "backtest",
            "GOOG",
            "--strategy",
            "sma-cross",
            "--data",
            "bundled",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    for figure in (
        "Return",
        "Buy & hold",
        "Trades",
        "Win rate",
        "Sharpe",
        "Max drawdown",
        "Final equity",
    ):
        assert figure in result.output
    assert out.read_text().startswith("open_time,equity")


@pytest.fixture
def replay_app(app_env, redis_client):
    """The ``app`` fixture's database, served by the replay source."""
    app = create_app({**app_env, "PHOTON_DATA_SOURCE": "replay", "PHOTON_REPLAY_TICK": "60"})
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_backfill_command_resumes(replay_app):
    app, runner = replay_app, replay_app.test_cli_runner()
    first = runner.invoke(args=["photon", "backfill", "BTC", "--interval", "1h", "--days", "5"])
    assert first.exit_code == 0, first.output
    assert "BTCUSDT 1h" in first.output
    with app.app_context():
        stored = db.session.scalar(select(db.func.count()).select_from(Bar))
    assert 110 <= stored <= 121
    again = runner.invoke(args=["photon", "backfill", "BTC", "--interval", "1h", "--days", "5"])
    assert again.exit_code == 0
    assert "(0 new)" in again.output
    unknown = runner.invoke(args=["photon", "backfill", "TSLA", "--days", "5"])
    assert unknown.exit_code != 0 and "TSLA" in unknown.output


def test_backtest_writes_every_out_of_sample_decision(runner, tmp_path):
    out = tmp_path / "decisions.csv"
    args = ["photon", "backtest", "GOOG", "--strategy", "model", "--data", "bundled",
            "--out", str(tmp_path / "curve.csv"), "--decisions-out", str(out)]  # fmt: skip
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "bar_time,action,confidence,p_up,p_down,p_flat,price,horizon_bars,cost,model"
    assert f"decisions: {out} ({len(lines) - 1} out of sample)" in result.output
    first = lines[1].split(",")
    assert first[1] in ("BUY", "SELL", "HOLD") and first[7:] == ["5", "0.004", "lightgbm"]
    sma = runner.invoke(args=[*args[:4], "sma-cross", *args[5:]])
    assert sma.exit_code != 0 and "makes no decisions" in sma.output
