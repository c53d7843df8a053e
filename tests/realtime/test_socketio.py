"""Socket.IO against the real web process (``python wsgi.py``, eventlet, replay data): token auth
on connect, room isolation, symbol subscriptions, quotes from real worker jobs end to end, and
the README's client snippet."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import socketio

from photon.realtime.events import AGENT_STATUS, QUOTE, emit, user_room
from tests.conftest import PASSWORD
from tests.realtime.conftest import live_server, server_env

# These tests start a real web process.
pytestmark = pytest.mark.slow

QUOTE_KEYS = {"symbol", "price", "change", "change_pct", "volume", "ts", "source"}
QUIET = 0.7  # seconds to wait for an event that must not come
README_CLIENT = Path(__file__).with_name("readme_client.py")
README = Path(__file__).resolve().parents[2] / "README.md"


def start_monitor(live, user) -> dict:
    response = live.api(
        "POST", "/api/trading/agents/market-monitor/", user, json={"action": "start"}
    )
    assert response.status_code == 200, response.text
    return response.json()


# --- connect: an access token is required -----------------------------------------------------


def test_connect_with_an_access_token_is_accepted(live, listeners):
    user = live.user()
    client = listeners(live).connect({"token": user.access})
    assert client.sio.connected and client.sio.sid
    assert client.connect_errors == []


def test_connect_with_polling_then_upgrade_is_accepted(live, listeners):
    user = live.user()
    client = listeners(live, transports=["polling", "websocket"]).connect({"token": user.access})
    assert client.sio.connected


@pytest.mark.parametrize(
    "auth, reason",
    [
        (None, "Authentication required"),
        ({}, "Authentication required"),
        ({"token": ""}, "Authentication required"),
        ({"token": 42}, "Authentication required"),
        ({"token": "not-a-jwt"}, "Invalid token"),
        ({"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"}, "Invalid token"),
    ],
)
def test_connect_without_a_valid_token_is_refused(live, listeners, auth, reason):
    client = listeners(live)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(auth)
    assert not client.sio.connected
    assert any(reason in str(error) for error in client.connect_errors), client.connect_errors


def test_connect_with_a_refresh_token_is_refused(live, listeners):
    user = live.user()
    client = listeners(live)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect({"token": user.refresh})
    assert any("access" in str(e) for e in client.connect_errors), client.connect_errors


def test_connect_with_a_token_signed_by_another_key_is_refused(live, listeners):
    from flask_jwt_extended import create_access_token

    from photon.app import create_app

    env = {**live.env, "JWT_SECRET_KEY": "another-secret-that-is-long-enough-for-hs256"}
    with create_app(env).app_context():
        forged = create_access_token(identity=str(live.user().id))
    client = listeners(live)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect({"token": forged})
    assert any("Invalid token" in str(e) for e in client.connect_errors)


def test_connect_with_a_revoked_token_is_refused(live, listeners):
    user = live.user()
    assert listeners(live).connect({"token": user.access}).sio.connected
    logout = live.api("POST", "/api/auth/logout/", user)
    assert logout.status_code in (200, 204), logout.text
    client = listeners(live)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect({"token": user.access})
    assert any("revoked" in str(e) for e in client.connect_errors), client.connect_errors


# --- rooms: a user's events reach that user only ----------------------------------------------


def test_agent_status_reaches_its_user_only(live, jobs, listeners):
    alice, bob = live.user("BTC", prefix="alice"), live.user("BTC", prefix="bob")
    a = listeners(live).connect({"token": alice.access})
    b = listeners(live).connect({"token": bob.access})
    started = start_monitor(live, alice)
    assert started["state"] == "running" and started["job_id"]
    # The web process announces the start itself ...
    a.wait_for(AGENT_STATUS, lambda p: p["state"] == "running")
    # ... and the worker's job announces its cycle through Redis.
    jobs.run()
    [status] = a.wait_for(AGENT_STATUS, lambda p: p["cycles"] == 1)
    assert status["agent"] == "market-monitor"
    assert status["last_error"] is None and status["last_run_at"]
    time.sleep(QUIET)
    assert b.received(AGENT_STATUS) == []
    assert b.received(QUOTE) == []  # nobody subscribed b to BTCUSDT


def test_an_event_queued_for_one_user_never_reaches_another(live, listeners):
    alice, bob = live.user(prefix="alice"), live.user(prefix="bob")
    a = listeners(live).connect({"token": alice.access})
    b = listeners(live).connect({"token": bob.access})
    redis_url = live.env["REDIS_URL"]
    for n in range(3):
        emit(
            AGENT_STATUS,
            {
                "agent": "market-monitor",
                "state": "running",
                "n": n,
                "last_run_at": None,
                "last_error": None,
            },
            user_room(bob.id),
            redis_url=redis_url,
        )
    got = b.wait_for(AGENT_STATUS, lambda p: p.get("n") is not None, count=3)
    assert [p["n"] for p in got] == [0, 1, 2]
    time.sleep(QUIET)
    assert a.received(AGENT_STATUS) == []


def test_two_clients_of_one_user_both_receive_its_events(live, listeners):
    alice = live.user(prefix="alice")
    first = listeners(live).connect({"token": alice.access})
    second = listeners(live).connect({"token": alice.access})
    emit(
        AGENT_STATUS,
        {"agent": "execution", "state": "stopped", "last_run_at": None, "last_error": None},
        user_room(alice.id),
        redis_url=live.env["REDIS_URL"],
    )
    for client in (first, second):
        client.wait_for(AGENT_STATUS, lambda p: p["agent"] == "execution")


# --- subscriptions: own symbols only ----------------------------------------------------------


def test_subscribe_refuses_symbols_you_do_not_watch(live, listeners):
    user = live.user("BTC")
    client = listeners(live).connect({"token": user.access})
    answer = client.call("subscribe", {"symbols": ["AAPL", "ETH"]})
    assert answer["joined"] == []
    assert set(answer["refused"]) == {"AAPL", "ETH"}
    assert "do not watch AAPL" in answer["refused"]["AAPL"]
    assert "do not watch ETHUSDT" in answer["refused"]["ETH"]
    [error] = client.wait_for("error")
    assert error["message"] and set(error["refused"]) == {"AAPL", "ETH"}


def test_subscribe_rejects_a_malformed_request_with_an_error_event(live, listeners):
    user = live.user("BTC")
    client = listeners(live).connect({"token": user.access})
    for bad in ({"symbols": "BTC"}, ["BTC"], {"symbols": [1]}, None):
        answer = client.call("subscribe", bad)
        assert answer["joined"] == [] and answer["error"]
    client.wait_for("error", count=4)


def test_subscribe_unsubscribe_and_quotes(live, jobs, listeners):
    user = live.user("BTC", "AAPL")
    other = live.user("BTC")  # watches BTC too, but does not subscribe
    client = listeners(live).connect({"token": user.access})
    bystander = listeners(live).connect({"token": other.access})
    answer = client.call("subscribe", {"symbols": ["btc/usdt", "MSFT"]})
    assert answer["joined"] == ["BTCUSDT"]
    assert set(answer["refused"]) == {"MSFT"}
    client.wait_for("error", lambda p: "MSFT" in p["refused"])

    start_monitor(live, user)
    jobs.run()
    [quote] = client.wait_for(QUOTE)
    assert set(quote) >= QUOTE_KEYS
    assert quote["symbol"] == "BTCUSDT" and quote["source"] == "replay"
    assert quote["price"] > 0
    # AAPL was not subscribed: its quote was emitted to a room this client is not in.
    time.sleep(QUIET)
    assert [q["symbol"] for q in client.received(QUOTE)] == ["BTCUSDT"]
    assert bystander.received(QUOTE) == []

    assert client.call("unsubscribe", {"symbols": ["BTC"]}) == {"left": ["BTCUSDT"]}
    jobs.market_update()
    # The job ran (its status reached the user) and emitted quotes, but none to this client.
    client.wait_for(AGENT_STATUS, lambda p: p.get("cycles") == 2)
    time.sleep(QUIET)
    assert len(client.received(QUOTE)) == 1


# --- end to end -------------------------------------------------------------------------------


def test_end_to_end_quotes_from_two_monitor_cycles(live, jobs, listeners):
    user = live.user("BTC", "AAPL")
    client = listeners(live).connect({"token": user.access})
    assert client.call("subscribe", {"symbols": ["BTC", "AAPL"]}) == {
        "joined": ["BTCUSDT", "AAPL"],
        "refused": {},
    }

    started = start_monitor(live, user)
    assert started["state"] == "running" and started["job_id"]
    assert started["symbols_watched"] == 2
    jobs.run()  # the start_market_monitoring job the POST queued
    first = client.wait_for(QUOTE, count=2)
    jobs.market_update()  # the scheduler's periodic job
    quotes = client.wait_for(QUOTE, count=4)
    assert first == quotes[:2]
    assert sorted(q["symbol"] for q in quotes) == ["AAPL", "AAPL", "BTCUSDT", "BTCUSDT"]
    assert all(set(q) >= QUOTE_KEYS and q["source"] == "replay" for q in quotes)

    latest = live.api("GET", "/api/trading/market-data/latest/", user)
    assert latest.status_code == 200, latest.text
    by_symbol = {row["symbol"]: row for row in latest.json()}
    assert set(by_symbol) == {"BTCUSDT", "AAPL"}
    assert all(row["source"] == "replay" and row["price"] > 0 for row in by_symbol.values())
    last = {q["symbol"]: q for q in quotes[2:]}
    for symbol, row in by_symbol.items():
        assert row["price"] == last[symbol]["price"]
    status = live.api("GET", "/api/trading/agents/market-monitor/", user).json()
    assert status["state"] == "running" and status["cycles"] == 2
    assert status["last_error"] is None


# --- the README's client ----------------------------------------------------------------------


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))


def test_readme_client_prints_live_quotes(live, jobs):
    code = [
        line
        for line in README_CLIENT.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(code) <= 10, "the README snippet must stay short"
    user = live.user("BTC", "AAPL")
    env = {**os.environ, "TOKEN": user.access, "PHOTON_URL": live.url, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(README_CLIENT)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []

    def until(predicate, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(predicate(line) for line in seen):
            try:
                seen.append(lines.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no such line in {seen}") from None

    try:
        until(lambda line: "'joined'" in line)  # subscribed: quotes can come now
        start_monitor(live, user)
        jobs.run()
        until(lambda line: line.startswith("BTCUSDT "))
        until(lambda line: line.startswith("AAPL "))
    finally:
        proc.kill()
        proc.wait(timeout=5)
    quotes = [line.split() for line in seen if line.startswith(("BTCUSDT ", "AAPL "))]
    assert all(float(fields[1]) > 0 and fields[-1] == "replay" for fields in quotes), seen


def test_readme_shows_the_client_verbatim():
    readme = README.read_text()
    if "socketio.Client()" not in readme:
        pytest.skip("README has no python-socketio client section yet")
    assert README_CLIENT.read_text().strip() in readme


# --- revocation and unwatching reach live connections -----------------------------------------


def test_logout_disconnects_that_logins_sockets_within_a_second(live, listeners):
    user = live.user("BTC")
    mine = listeners(live).connect({"token": user.access})
    second_login = live.api(
        "POST", "/api/auth/login/", json={"username": user.username, "password": PASSWORD}
    ).json()
    other = listeners(live).connect({"token": second_login["access"]})
    assert live.api("POST", "/api/auth/logout/", user).status_code == 204
    deadline = time.monotonic() + 1.0
    while mine.sio.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not mine.sio.connected, "the logged-out login's socket is still connected"
    assert other.sio.connected, "another login of the same user must stay connected"


def test_logout_reaches_sockets_on_another_web_process(
    live, database_urls, redis_url, tmp_path_factory, listeners
):
    env = server_env(database_urls["sqlite"], redis_url)
    with live_server(env, tmp_path_factory.mktemp("wsgi-2")) as second:
        user = live.user("BTC")
        there = listeners(second).connect({"token": user.access})
        assert live.api("POST", "/api/auth/logout/", user).status_code == 204
        deadline = time.monotonic() + 1.0
        while there.sio.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not there.sio.connected, "logout on one process left a socket on the other"


def test_a_reused_refresh_token_disconnects_the_login(live, listeners):
    user = live.user("BTC")
    client = listeners(live).connect({"token": user.access})
    first = live.api("POST", "/api/auth/refresh/", json={"refresh": user.refresh})
    assert first.status_code == 200
    replay = live.api("POST", "/api/auth/refresh/", json={"refresh": user.refresh})
    assert replay.status_code == 401
    deadline = time.monotonic() + 1.0
    while client.sio.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not client.sio.connected


def test_unwatching_a_symbol_leaves_its_room(live, jobs, listeners):
    user = live.user("BTC", "AAPL")
    client = listeners(live).connect({"token": user.access})
    assert client.call("subscribe", {"symbols": ["BTC", "AAPL"]})["joined"] == ["BTCUSDT", "AAPL"]
    symbols = {s["symbol"]: s["id"] for s in live.api("GET", "/api/trading/symbols/", user).json()}
    gone = live.api("DELETE", f"/api/trading/symbols/{symbols['BTCUSDT']}/", user)
    assert gone.status_code == 204
    start_monitor(live, user)
    jobs.run()
    client.wait_for(QUOTE, lambda q: q["symbol"] == "AAPL")
    time.sleep(QUIET)
    assert [q["symbol"] for q in client.received(QUOTE)] == ["AAPL"]
