"""The initial migration builds the same schema the models describe, on each backend."""

import sqlalchemy as sa

from photon.extensions import db


def test_migrated_schema_matches_models(app):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        tables = set(inspector.get_table_names())
        assert set(db.metadata.tables) <= tables
        assert "alembic_version" in tables
        uniques = {
            table: {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
            for table in ("market_data", "bars", "watches", "users", "symbols")
        }
        assert ("symbol_id", "ts") in uniques["market_data"]
        assert ("symbol_id", "interval", "open_time") in uniques["bars"]
        assert ("user_id", "symbol_id") in uniques["watches"]
        assert ("username",) in uniques["users"] and ("email",) in uniques["users"]


def test_no_model_change_is_missing_a_migration(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_downgrade_then_upgrade(app):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision="base")
        assert "users" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        assert "users" in sa.inspect(db.engine).get_table_names()
