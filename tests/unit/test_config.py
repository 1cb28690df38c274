"""Configuration flows from defaults and MODERATION_* variables only."""

from moderation import config


def test_defaults_without_environment():
    settings = config.from_environment({})
    assert settings["DATABASE_URL"] is None
    assert settings["REDIS_URL"] is None
    assert settings["PORT"] == 5000
    assert settings["MODELS_DIR"].endswith("models")


def test_environment_overrides_with_types():
    settings = config.from_environment(
        {
            "MODERATION_DATABASE_URL": "postgresql://db/x",
            "PORT": "8080",
            "MODERATION_PENDING_MAX_AGE": "30",
            "MODERATION_TOXICITY_HOLD": "0.4",
            "UNRELATED": "1",
        }
    )
    assert settings["DATABASE_URL"] == "postgresql://db/x"
    assert settings["PORT"] == 8080
    assert settings["PENDING_MAX_AGE"] == 30
    assert settings["TOXICITY_HOLD"] == 0.4


def test_prefixed_port_wins_over_plain_port():
    assert config.from_environment({"PORT": "8080", "MODERATION_PORT": "9090"})["PORT"] == 9090


def test_postgres_urls_use_psycopg3():
    assert config.normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_finalise_fills_sqlite_and_secret(tmp_path):
    settings = config.from_environment({})
    config.finalise(settings, tmp_path)
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'moderation.db'}"
    assert len(settings["SECRET_KEY"]) == 64
    again = config.from_environment({})
    config.finalise(again, tmp_path)
    assert again["SECRET_KEY"] == settings["SECRET_KEY"]
    assert settings["MAX_CONTENT_LENGTH"] == 64 * 1024
