"""Configuration: defaults <- MODERATION_* environment <- explicit overrides."""

import hashlib
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Every key here can be set as MODERATION_<KEY> in the environment; values are cast to the default's type.
DEFAULTS = {
    "DATABASE_URL": None,  # None: SQLite file under the instance folder
    "REDIS_URL": None,  # None: the embedded Redis of a `moderation run` serving this database
    "SECRET_KEY": None,  # None: a random key kept in the instance folder (development only)
    "MODELS_DIR": str(PROJECT_ROOT / "models"),
    "DATA_DIR": str(PROJECT_ROOT.parent / "shared" / "data"),  # labelled data for `moderation train`
    "QUEUE": "moderation",  # the broker queue; separate services can share one Redis
    "PORT": 5000,
    "HOST": "127.0.0.1",
    "WEB_WORKERS": 2,
    "WORKER_CONCURRENCY": 2,
    # A worker decides the comments that came within SCORE_BATCH_SECONDS together, at most SCORE_BATCH at once.
    "SCORE_BATCH": 100,
    "SCORE_BATCH_SECONDS": 0.02,
    "PENDING_MAX_AGE": 120,  # seconds a comment may stay pending before the sweep re-queues it
    "SWEEP_INTERVAL": 60,  # seconds between sweeps
    "BUDGET_INTERVAL": 300,  # seconds between recomputations of the sites' hold budget thresholds
    "AUTO_RETRAIN_INTERVAL": 600,  # seconds between checks for a site with enough new decisions to retrain
    "WEBHOOK_INTERVAL": 15,  # seconds between sweeps of webhook deliveries due (retries, missed ones)
    "WEBHOOK_RETRY_SECONDS": 30,  # the first retry of a failed delivery; each next one waits twice as long
    "BROKER_TIMEOUT": 2.0,  # seconds to reach the broker before giving up (the comment stays stored)
    "DATABASE_CONNECT_TIMEOUT": 5,  # seconds to reach PostgreSQL before answering 503 (at least 2, libpq's minimum)
    "VISIBILITY_TIMEOUT": 3600,  # seconds before Redis redelivers an unacknowledged task
    "HEARTBEAT_INTERVAL": 10.0,  # seconds between a worker's heartbeats; /healthz fails after three missed
    "MAX_BODY_BYTES": 64 * 1024,
    "SPAM_HOLD": -1.0,  # < 0: use the active model's thresholds
    "SPAM_THRESHOLD": -1.0,
    "TOXICITY_HOLD": -1.0,
    # "auto": session cookies are Secure when the request came over HTTPS; "1" always, "0" never.
    "SECURE_COOKIES": "auto",
    "PROXY_COUNT": 0,  # reverse proxies in front (nginx: 1), trusted for X-Forwarded-For/-Proto
    "SESSION_HOURS": 12,
    "LOGIN_LIMIT": "10 per minute;50 per hour",  # failed sign-ins per address, whatever the accounts
    "LOGIN_ACCOUNT_LIMIT": "20 per hour",  # failed sign-ins per account from one address; other addresses go on
    # An account with this many failures from anywhere is under attack: each address may then fail on it
    # at LOGIN_PACE, slower but never locked out, so an attacker cannot lock its owner out.
    "LOGIN_PACE_AFTER": "20 per hour",
    "LOGIN_PACE": "1 per 5 seconds",
    "PAGE_SIZE": 50,
    "CAMPAIGN_HOURS": 24,  # near-identical texts within this window are compared
    "CAMPAIGN_SIZE": 3,  # ... and held together once this many different names sent one
    # A trusted author's comment is approved unless a score reaches this: well above toxicity_hold (0.83 since
    # v20261203-042439, which holds 5% of ordinary news comments), so trust still covers a mildly rude remark.
    "TRUSTED_MAX_SCORE": 0.97,
    # Seconds a web process trusts the site it found for a key; a rotated key goes on working elsewhere this long.
    "SITE_CACHE_SECONDS": 10.0,
    "API_KEY_LIMIT": "200 per second",  # comments a site key may post; far above any real site
    "API_AUTHOR_LIMIT": "60 per minute",  # comments per reader's IP (author_ip), flood aside
    "API_REPORTER_LIMIT": "20 per minute",  # complaints per reader (reporter), counted by its keyed hash
    "RETRAIN_STALE_SECONDS": 600,  # a running retrain silent this long has lost its worker: marked failed
    "RETRAIN_QUEUE_SECONDS": 3600,  # a queued retrain no worker took this long: marked failed
}


def _cast(raw, default):
    """Cast an environment string to the type of its default."""
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def from_environment(environ=None):
    """Return the settings from DEFAULTS overridden by MODERATION_* variables."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(f"MODERATION_{key}")
        if raw is None and key == "PORT":
            raw = environ.get("PORT")
        if raw not in (None, ""):
            settings[key] = _cast(raw, default)
    return settings


def child_environment(overrides):
    """The environment for a child process: ours, with these settings replaced."""
    return {**os.environ, **overrides}


def finalise(config, instance_path):
    """Fill the derived Flask and SQLAlchemy settings in place."""
    instance = Path(instance_path)
    if not config.get("DATABASE_URL"):
        instance.mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{instance / 'moderation.db'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance)
    if not config.get("REDIS_URL"):
        config["REDIS_URL"] = running_embedded_redis(instance, config["DATABASE_URL"])
        config["REDIS_DISCOVERED"] = bool(config["REDIS_URL"])  # another `moderation run` started it
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["DATABASE_URL"])
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        config["SQLALCHEMY_DATABASE_URI"], config["DATABASE_CONNECT_TIMEOUT"]
    )
    # Intake's own engine on the same database (db.engines["intake"]): every statement its own transaction, and
    # no ping before each use; intake tries once more on a connection found dead (services/intake.py).
    config["SQLALCHEMY_BINDS"] = {
        INTAKE_BIND: {
            "url": config["SQLALCHEMY_DATABASE_URI"],
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
            "pool_pre_ping": False,
            "isolation_level": "AUTOCOMMIT",
        }
    }
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # No busy timeout: intake waits for another writer's lock in short pauses of its own (db.while_locked).
        config["SQLALCHEMY_BINDS"][INTAKE_BIND]["connect_args"] = {"timeout": 0}
    config["MAX_CONTENT_LENGTH"] = config["MAX_BODY_BYTES"]
    config.setdefault("BABEL_DEFAULT_LOCALE", "ru")
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = str(config["SECURE_COOKIES"]).lower() in ("1", "true", "yes", "on")
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["SESSION_HOURS"])
    config["WTF_CSRF_TIME_LIMIT"] = config["SESSION_HOURS"] * 3600
    # Sign-in limits live in Redis so every web worker counts together; with Redis down they fall
    # back to each worker's memory rather than locking moderators out.
    config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"] or "memory://")
    config.setdefault("RATELIMIT_KEY_PREFIX", f"{config['QUEUE']}-limits")
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # No X-RateLimit-* headers on every answer; a refusal carries Retry-After (errors.py).
    config.setdefault("RATELIMIT_HEADERS_ENABLED", False)


INTAKE_BIND = "intake"


def normalise_database_url(url):
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


SQLITE_LOCK_SECONDS = 30  # how long a SQLite writer waits for another's lock before "database is locked"


def engine_options(url, connect_timeout=5):
    """Engine options: wait on SQLite locks instead of failing, check pooled connections, give up on a dead host."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_LOCK_SECONDS}}
    # Without a connect timeout a host that drops packets (or accepts and never answers) hangs the request,
    # and with it a web worker, for minutes; with one the request answers 503 (errors.py).
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": max(2, int(connect_timeout))}}


def per_database_file(instance, name, database_url):
    """A file of the instance folder that belongs to one database (two `run`s on two databases may share it)."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return Path(instance) / name.format(digest)


def embedded_redis_file(instance, database_url):
    """Where `moderation run` tells other processes on this database which embedded Redis it started."""
    return per_database_file(instance, "embedded-redis-{}.json", database_url)


def running_embedded_redis(instance, database_url):
    """The URL of the embedded Redis a running `moderation run` started for this database, or None."""
    try:
        found = json.loads(embedded_redis_file(instance, database_url).read_text())
        os.kill(int(found["pid"]), 0)  # a file left by a run that was killed names a dead process
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found.get("url")


def _instance_secret(instance):
    """Keep one random secret per instance so sessions survive restarts in development."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
