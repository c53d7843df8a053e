"""The scale-out drill's accounting: what each client should have had (from what the fake venue
accepted and what the database stored), what it got, and the summary table ``-s`` prints."""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa

from photon.tasks import periodic
from tests.drills.scale import Client, Driver, counted, event_key

INTERVAL = 2  # the drill's PHOTON_MONITOR_INTERVAL
LOCK_PERIOD = 1 + 10  # rq-scheduler's lock: its poll interval (1 s) + 10 s
MONITOR = "photon.tasks.monitor.periodic_market_update"
# Rows the constraints say cannot repeat, counted anyway: the drill's proof, not the schema's.
DUPLICATES = {
    "quote": "SELECT count(*) FROM (SELECT 1 FROM market_data "
    "GROUP BY symbol_id, ts HAVING count(*) > 1) d",
    "bar": "SELECT count(*) FROM (SELECT 1 FROM bars "
    "GROUP BY symbol_id, interval, open_time HAVING count(*) > 1) d",
    "decision (per request)": "SELECT count(*) FROM (SELECT 1 FROM trading_decisions "
    "WHERE request_id IS NOT NULL GROUP BY request_id HAVING count(*) > 1) d",
    "decision (auto, per bar)": "SELECT count(*) FROM (SELECT 1 FROM trading_decisions "
    "WHERE request_id LIKE 'auto:%' GROUP BY user_id, symbol_id, bar_time HAVING count(*) > 1) d",
    "order (per decision)": "SELECT count(*) FROM (SELECT 1 FROM paper_orders "
    "WHERE decision_id IS NOT NULL GROUP BY decision_id HAVING count(*) > 1) d",
}


def scalar(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql)))


def _expected(driver: Driver, engine, window: tuple[float, float], stream_gap) -> dict:
    """What the venue accepted and the database stored in ``window``, as event keys (with the
    user whose room they go to, for decisions and orders)."""
    lo, hi = window[0] + 1.5, window[1] - 1.5
    in_gap = lambda t: stream_gap[0] <= t <= stream_gap[1]  # noqa: E731
    quotes = {(s, ts) for t, s, ts in driver.quotes if lo <= t <= hi and not in_gap(t)}
    bnb = rows(
        engine,
        "SELECT m.ts FROM market_data m JOIN symbols s ON s.id = m.symbol_id "
        "WHERE s.ticker = 'BNBUSDT'",
    )
    quotes |= {
        ("BNBUSDT", int(_utc(ts).timestamp() * 1000))
        for (ts,) in bnb
        if lo <= _utc(ts).timestamp() <= hi
    }
    bars = {key for t, key in driver.bars if lo <= t <= hi and not in_gap(t)}
    by_user: dict[str, set] = {"decision": set(), "order": set()}
    for event, table in (("decision", "trading_decisions"), ("order", "paper_orders")):
        for id_, user_id, created in rows(engine, f"SELECT id, user_id, created_at FROM {table}"):
            if lo <= _utc(created).timestamp() <= hi:
                by_user[event].add((user_id, id_))
    return {"quote": quotes, "bar": bars, **by_user}


def _utc(value):
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _quote_key(payload: dict) -> tuple:
    # Streamed quotes are known by the venue's time the drill pushed; polled ones by their ts.
    if payload["symbol"] == "BNBUSDT":
        return (payload["symbol"], event_key("quote", payload)[1])
    return (payload["symbol"], event_key("quote", payload)[2])


def _keys(client: Client, event: str, owner: dict) -> list[tuple[float, tuple]]:
    out = []
    for t, name, payload in client.received:
        if name != event:
            continue
        if event == "quote":
            key = _quote_key(payload)
        elif event == "bar":
            key = (
                "BTCUSDT",
                "1m",
                event_key("bar", payload)[2],
                payload["closed"],
                payload["close"],
            )
        elif event in ("decision", "order"):
            key = (owner[event].get(payload["id"]), payload["id"])
        else:
            key = event_key(event, payload) or ("execution", t)
        out.append((t, key))
    return out


def check(clients, driver, engine, control, users, windows, stream_gap, figures, seconds) -> None:
    owner = {
        "decision": dict(rows(engine, "SELECT id, user_id FROM trading_decisions")),
        "order": dict(rows(engine, "SELECT id, user_id FROM paper_orders")),
    }
    table = []
    failures = []
    for event in ("quote", "bar", "decision", "order", "agent_status"):
        expected_total = delivered = duplicates = missing = 0
        for client in clients:
            received = _keys(client, event, owner)
            _distinct, dup = counted(
                [k for _t, k in received if event != "agent_status" or k[0] != "execution"]
            )
            duplicates += dup
            if dup:
                failures.append(f"{client.name}: {dup} {event} events twice")
        for window in windows:
            expected = _expected(driver, engine, window, stream_gap).get(event)
            for client in clients:
                assert client.connected_throughout(*window), (client.name, client.connections)
                peers = (
                    [c for c in clients if c.user_id == client.user_id]
                    if event != "quote" and event != "bar"
                    else clients
                )
                got = {k for t, k in _keys(client, event, owner) if window[0] <= t <= window[1] + 5}
                if expected is not None:
                    mine = {
                        k for k in expected if event in ("quote", "bar") or k[0] == client.user_id
                    }
                else:  # agent status: what any client of the user got well inside the window
                    mine = {
                        k
                        for p in peers
                        for t, k in _keys(p, event, owner)
                        if window[0] + 1 <= t <= window[1] - 1 and k[0] != "execution"
                    }
                expected_total += len(mine)
                delivered += len(mine & got)
                lost = mine - got
                missing += len(lost)
                if lost:
                    failures.append(
                        f"{client.name}: {len(lost)} of {len(mine)} {event} missing, "
                        f"e.g. {sorted(lost)[:3]}"
                    )
            if event == "agent_status":
                # Execution statuses repeat legitimately: every client of a user gets as many.
                for user in users:
                    counts = {
                        c.name: sum(
                            1
                            for t, k in _keys(c, event, owner)
                            if k[0] == "execution" and window[0] + 1 <= t <= window[1] - 1
                        )
                        for c in clients
                        if c.user_id == user["id"]
                    }
                    if max(counts.values()) - min(counts.values()) > 1:
                        failures.append(f"execution statuses differ between clients: {counts}")
        table.append((event, expected_total, delivered, missing, duplicates))

    runs = periodic.runs(control, MONITOR)
    gaps = [b["at"] - a["at"] for a, b in zip(runs, runs[1:], strict=False)]
    skipped = int(
        float(control.hget("photon:metrics:periodic_runs", "periodic_market_update|skipped") or 0)
    )
    jobs = {job_id for _t, _u, job_id in driver.jobs}
    decided = rows(
        engine,
        "SELECT request_id, count(*) FROM trading_decisions "
        "WHERE request_id LIKE 'job:%' GROUP BY request_id",
    )
    dup_rows = {event: scalar(engine, sql) for event, sql in DUPLICATES.items()}
    print(
        f"\nscale-out: {len(clients)} clients of {len(users)} users, load {seconds:.0f} s, windows "
        + ", ".join(f"{w[1] - w[0]:.0f} s" for w in windows)
    )
    print(f"{'event':<14}{'expected':>10}{'delivered':>11}{'missing':>9}{'duplicates':>12}")
    for event, expected_total, delivered, missing, duplicates in table:
        print(f"{event:<14}{expected_total:>10}{delivered:>11}{missing:>9}{duplicates:>12}")
    print(
        f"periodic runs of the monitor: {len(runs)}, shortest gap {min(gaps):.2f} s, "
        f"doubled runs skipped by the claim: {skipped}"
    )
    print(
        f"analyses asked {len(jobs)}, decided {len(decided)}, decided twice "
        f"{sum(1 for _r, n in decided if n > 1)}; duplicate rows {dup_rows}"
    )
    for name, value in figures.items():
        print(f"{name}: {value if not isinstance(value, (float, tuple)) else _fmt(value)}")

    assert not failures, "\n".join(failures[:30])
    assert all(delivered > 0 for event, _e, delivered, _m, _d in table), table
    assert min(gaps) >= periodic.CLAIM_SHARE * INTERVAL - 0.05, gaps
    assert len(runs) >= (windows[-1][1] - windows[0][0]) / (INTERVAL + 1.5), len(runs)
    assert {r.removeprefix("job:") for r, _n in decided} == jobs and all(
        n == 1 for _r, n in decided
    )
    assert not any(dup_rows.values()), dup_rows
    assert (
        figures["scheduler: gap in periodic runs across kill -9 (s)"] <= LOCK_PERIOD + INTERVAL + 1
    )


def _fmt(value) -> str:
    if isinstance(value, tuple):
        return ", ".join(f"{v:.2f}" for v in value)
    return f"{value:.2f}"
