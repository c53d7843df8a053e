import pytest

from photon.app import create_app
from photon.config import DEFAULT_SECRET, ConfigError, Settings


def test_defaults():
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.port == 8000
    assert settings.monitor_interval == 60
    assert settings.data_source == "live"
    assert settings.database_uri("/inst").startswith("sqlite:////inst/photon.db")


def test_typed_parsing_names_the_variable():
    with pytest.raises(ConfigError, match="PORT"):
        Settings.from_env({"PORT": "eighty"})
    with pytest.raises(ConfigError, match="PHOTON_DATA_SOURCE"):
        Settings.from_env({"PHOTON_DATA_SOURCE": "imaginary"})
    assert Settings.from_env({"PHOTON_MONITOR_INTERVAL": " 5 "}).monitor_interval == 5


@pytest.mark.parametrize("secret", [None, "", DEFAULT_SECRET, "short"])
def test_production_refuses_missing_or_default_secret(secret):
    env = {"PHOTON_ENV": "production"}
    if secret is not None:
        env["JWT_SECRET_KEY"] = secret
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    message = str(info.value)
    assert "JWT_SECRET_KEY" in message and "\n" not in message


def test_production_refusal_happens_in_create_app():
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        create_app({"PHOTON_ENV": "production", "JWT_SECRET_KEY": ""})


def test_production_starts_with_a_real_secret():
    settings = Settings.from_env({"PHOTON_ENV": "production", "JWT_SECRET_KEY": "x" * 40})
    assert settings.production


def test_postgres_urls_use_psycopg2():
    for url in ("postgres://u@h/db", "postgresql://u@h/db"):
        assert Settings.from_env({"DATABASE_URL": url}).database_uri("/i") == (
            "postgresql+psycopg2://u@h/db"
        )


def test_factory_does_not_connect_at_import_or_build():
    # Unreachable services do not stop the app from being built; only requests touch them.
    app = create_app(
        {
            "PHOTON_ENV": "test",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        }
    )
    assert app.config["TESTING"]


def test_every_variable_is_documented_in_readme_and_env_example():
    from pathlib import Path

    from photon.config import VARIABLES

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    example = (root / "env.example").read_text()
    for var in VARIABLES:
        assert f"| `{var.name}` |" in readme, var.name
        assert f"\n{var.name}=" in example, var.name
