"""The `moderation` command."""

import functools
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade


def _create_app():
    from moderation import create_app

    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, load_dotenv=False, set_debug_flag=False
)
def main():
    """Comment moderation service."""


def with_database(command):
    """with_appcontext for a command that reads or writes the database: before it runs, a clear error (and nothing
    changed) when the database's schema is not the one this code migrates it to, as on a fresh install before
    `moderation run` or `moderation db upgrade`, or after an update before the latter."""

    @functools.wraps(command)
    def checked(*args, **kwargs):
        _require_current_schema()
        return command(*args, **kwargs)

    return with_appcontext(checked)


def _require_current_schema():
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from moderation.db import db

    url = make_url(current_app.config["DATABASE_URL"])
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():  # connecting would create it
            raise click.ClickException(f"the database {shown} does not exist yet. {_UPGRADE_HINT}")
    migrate = current_app.extensions["migrate"]
    scripts = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    wanted = set(scripts.get_heads())
    try:
        with db.engine.connect() as connection:
            found = set(MigrationContext.configure(connection).get_current_heads())
            tables = inspect(connection).get_table_names() if not found else []
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot read the database {shown}: {exc.__cause__ or exc}") from exc
    if found == wanted:
        return
    if not found:
        state = "has tables but no migration revision" if tables else "has no tables yet"
        raise click.ClickException(f"the database {shown} {state}. {_UPGRADE_HINT}")
    revisions = ", ".join(sorted(found))
    try:
        scripts.get_revisions(tuple(found))  # raises for a revision this code does not have
    except CommandError as exc:
        raise click.ClickException(
            f"the database {shown} is at revision {revisions}, which this code does not know: "
            "a newer release migrated it; run that release"
        ) from exc
    raise click.ClickException(
        f"the database {shown} is at revision {revisions}; this release needs {', '.join(sorted(wanted))}. "
        f"{_UPGRADE_HINT}"
    )


_UPGRADE_HINT = "Run `moderation db upgrade` (`moderation run` does it before it starts)."


@main.command("run")
@with_appcontext
def run_command():
    """Migrate the database, then run web and worker (and Redis if none is configured)."""
    from moderation.runner import run_all
    from moderation.services import users

    upgrade(directory=current_app.extensions["migrate"].directory)
    first = users.create_first_admin()
    if first:
        click.echo(
            f"first admin created for the dashboard: login {first[0]!r}, password {first[1]!r} "
            "(shown once; change it with `moderation user password admin`)"
        )
    sys.exit(run_all(current_app._get_current_object()))


@main.group("site")
def site_group():
    """Websites that post comments."""


@site_group.command("add")
@click.argument("name")
@with_database
def site_add(name):
    """Create a site; its API key is printed alone on the last line."""
    from sqlalchemy.exc import IntegrityError

    from moderation.db import db
    from moderation.services import sites

    try:
        site, key = sites.create_site(name)
    except IntegrityError as exc:
        db.session.rollback()
        raise click.ClickException(f"a site named {name!r} exists already") from exc
    click.echo(f"site {site.id} {site.name!r} created; its API key (shown once):")
    click.echo(key)


@main.group("user")
def user_group():
    """Moderators and admins of the dashboard."""


@user_group.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(["moderator", "admin"]), default="moderator", show_default=True)
@click.option(
    "--password",
    envvar="MODERATION_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    show_envvar=True,
    help="Better given as MODERATION_PASSWORD or at the prompt than on the command line.",
)
@with_database
def user_add(login, role, password):
    """Create a dashboard user; the password comes from MODERATION_PASSWORD or a prompt."""
    from moderation.services import users

    try:
        user = users.create_user(login, password, role)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{user.role} {user.login!r} created")


@user_group.command("password")
@click.argument("login")
@click.option(
    "--password",
    envvar="MODERATION_PASSWORD",
    prompt="New password",
    hide_input=True,
    confirmation_prompt=True,
    show_envvar=True,
)
@with_database
def user_password(login, password):
    """Set a user's password (from MODERATION_PASSWORD or a prompt)."""
    from moderation.services import users

    user = users.find_user(login)
    if user is None:
        raise click.ClickException(f"no user {login!r}")
    try:
        users.set_password(user, password)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"password of {user.login!r} changed")


@user_group.command("token")
@click.argument("login")
@click.option("--revoke", is_flag=True, help="Revoke every token of the user instead of issuing one.")
@with_database
def user_token(login, revoke):
    """Issue a new API token for the moderate API; it is printed alone on the last line."""
    from moderation.services import users

    user = users.find_user(login)
    if revoke and user is not None:
        click.echo(f"{users.revoke_tokens(user)} token(s) of {user.login!r} revoked")
        return
    if user is None or not user.active:
        raise click.ClickException(f"no active user {login!r}")
    token = users.issue_token(user)
    click.echo(f"API token for {user.login!r} (shown once):")
    click.echo(token)


@site_group.command("budget")
@click.argument("site_name", metavar="SITE")
@click.argument("budget_text", metavar="PERCENT|N/day|off")
@with_database
def site_budget(site_name, budget_text):
    """The share of the site's comments (or the number a day) its moderators can review; `off` removes it.

    The hold thresholds are derived at once from the site's latest comments, then every
    MODERATION_BUDGET_INTERVAL seconds by the worker.
    """
    from moderation.services import audit, budget, scorer, settings, sites

    site = sites.find_site(site_name)
    if site is None:
        raise click.ClickException(f"no site {site_name!r}")
    old = budget.describe(site)
    try:
        changed = budget.set_budget(site, *budget.parse(budget_text))
    except budget.BudgetError as exc:
        raise click.ClickException(
            f"a budget is a percentage above 0 and at most {budget.MAX_PERCENT:g} (5 or 5%), "
            f"a number a day (40/day) or off, not {budget_text!r}"
        ) from exc
    if changed:
        audit.record(audit.SITE_BUDGET, via="cli", site_id=site.id, name=site.name, old=old, new=budget.describe(site))
    if not budget.has_budget(site):
        click.echo(f"{site.name!r}: no hold budget; the model's thresholds apply")
        return
    explicit = scorer.explicit(current_app.config, settings.threshold_overrides())
    state = budget.compute(site, scorer.bundle_for(current_app.config["MODELS_DIR"], site.model_version), explicit)
    click.echo(f"{site.name!r}: hold budget {budget.describe(site)}")
    if state["status"] == "learning":
        click.echo(
            f"{state['window']} recent comments, {budget.MIN_COMMENTS} needed: the model's thresholds apply until then"
        )
    else:
        click.echo(
            f"thresholds in force: toxicity_hold {state['toxicity_hold']:.4f}, "
            f"spam_hold {state['spam_hold']:.4f} (model {state['model']['toxicity_hold']:.4f}, "
            f"{state['model']['spam_hold']:.4f}); expected held {state['expected_share']:.1%}, "
            f"about {state['expected_per_day']:g} a day"
        )


@site_group.command("webhook")
@click.argument("site_name", metavar="SITE")
@click.argument("url")
@with_database
def site_webhook(site_name, url):
    """Send the site's events to URL (http or https); its new signing secret is printed alone on the last line.

    Nothing is sent now: the first event is the next decision. `off` as the URL stops the webhook.
    """
    from moderation.services import audit, sites, webhooks

    site = sites.find_site(site_name)
    if site is None:
        raise click.ClickException(f"no site {site_name!r}")
    old = site.webhook_url
    if url == "off":
        webhooks.remove_webhook(site)
        secret = None
    else:
        try:
            secret = webhooks.set_webhook(site, url)
        except webhooks.WebhookError as exc:
            raise click.ClickException(f"a webhook URL is http:// or https:// with a host, not {url!r}") from exc
    audit.record(audit.SITE_WEBHOOK, via="cli", site_id=site.id, name=site.name, old=old, new=site.webhook_url)
    if secret is None:
        click.echo(f"{site.name!r}: no webhook")
        return
    click.echo(f"{site.name!r}: events go to {site.webhook_url}; verify X-Moderation-Signature with this secret:")
    click.echo(secret)


@site_group.command("coral")
@click.argument("site_name", metavar="SITE")
@click.argument("secret")
@with_database
def site_coral(site_name, secret):
    """Accept Coral Talk's external moderation phase for the site, signed with SECRET (Coral shows it); `off` stops.

    Coral's phase URL is then <service>/coral/sites/<SITE>/phase.
    """
    from moderation.services import audit, sites

    site = sites.find_site(site_name)
    if site is None:
        raise click.ClickException(f"no site {site_name!r}")
    if secret != "off" and not 8 <= len(secret) <= 200:
        raise click.ClickException("Coral's signing secret is the empsec_… value its phase page shows")
    site.coral_secret = None if secret == "off" else secret
    audit.record(audit.SITE_CORAL, via="cli", site_id=site.id, name=site.name, on=site.coral_secret is not None)
    if site.coral_secret is None:
        click.echo(f"{site.name!r}: no Coral moderation phase")
    else:
        click.echo(f"{site.name!r}: Coral's phase URL is /coral/sites/{site.name}/phase on this service")


@main.group("words")
def words_group():
    """Word lists of a site: block (to spam) and watch (held for a moderator)."""


@words_group.command("add")
@click.argument("site_name", metavar="SITE")
@click.argument("kind", type=click.Choice(["watch", "block"]))
@click.argument("words", nargs=-1, required=True)
@with_database
def words_add(site_name, kind, words):
    """Add entries; each catches its inflected and disguised forms, as whole words."""
    from moderation.services import sites, wordlists

    site = sites.find_site(site_name)
    if site is None:
        raise click.ClickException(f"no site {site_name!r}")
    try:
        added = wordlists.add_words(site, kind, words)
    except wordlists.WordListError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{len(added)} added to the {kind} list of {site.name!r} ({len(words) - len(added)} there already)")


def _models_dir():
    return Path(current_app.config["MODELS_DIR"])


@main.command("train")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder with spam.csv and toxicity.csv (default: MODERATION_DATA_DIR).",
)
@click.option("--activate/--no-activate", default=False, help="Make the new version the active one.")
@with_appcontext
def train_command(data_dir, activate):
    """Train spam and toxicity models; the new version's id is printed alone on the last line."""
    from moderation import scoring

    data_dir = data_dir or Path(current_app.config["DATA_DIR"])
    version = scoring.train_version(data_dir, _models_dir(), activate=activate, log=click.echo)
    click.echo(version)


@main.command("retrain")
@click.option(
    "--wait", is_flag=True, help="Wait for the worker to finish; print the new version alone on the last line."
)
@click.option("--timeout", default=1800, show_default=True, help="Seconds to wait with --wait.")
@with_database
def retrain_command(wait, timeout):
    """Retrain from the moderators' decisions in a worker, as the dashboard does (the active model is kept)."""
    import time

    from moderation.db import db
    from moderation.models import RETRAIN_DONE, RETRAIN_FAILED, RetrainJob
    from moderation.services import retraining

    app = current_app._get_current_object()
    try:
        job = retraining.queue_job(app, via="cli")
    except retraining.RetrainError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"retrain job {job.id} queued")
    if not wait:
        return
    deadline, shown = time.monotonic() + timeout, None
    while True:
        retraining.expire_stale(app.config)
        db.session.expire_all()
        job = db.session.get(RetrainJob, job.id)
        if (job.progress, job.message) != shown:
            shown = (job.progress, job.message)
            click.echo(f"{job.status} {job.progress}% {job.message}", err=True)
        if job.status == RETRAIN_FAILED:
            raise click.ClickException(f"retrain job {job.id} failed: {job.error}")
        if job.status == RETRAIN_DONE:
            click.echo(job.version)
            return
        if time.monotonic() > deadline:
            raise click.ClickException(f"retrain job {job.id} is still {job.status} after {timeout}s")
        time.sleep(1)


@main.command("score")
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def score_command(input_path, output_path):
    """Score a CSV with a `text` column; write it with `spam`, `toxicity` and `decision` columns."""
    from moderation import scoring

    bundle = scoring.load_active(_models_dir())
    try:
        rows = scoring.score_csv(bundle, input_path, output_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{rows} rows scored with model {bundle.version} -> {output_path}", err=True)


@main.command("evaluate")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--split", type=click.Choice(["test", "dev"]), default="test", show_default=True)
@click.option("--version", default=None, help="A model version (default: the active one).")
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Hand labels of the data's unlabelled_comments.csv "
    "(default: MODELS_DIR/eval/news_comments_labels.csv; that section is skipped without it).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Also write the full results as JSON to this file.",
)
@with_appcontext
def evaluate_command(data_dir, split, version, labels_path, json_path):
    """Print ROC-AUC, average precision, precision, recall and F1 per source and language, the
    share of ordinary comments held and of toxic comments caught, and the same on the in-domain
    news comments (unlabelled_comments.csv in the data, with its hand labels) when they are there."""
    from moderation import scoring
    from moderation.scoring.evaluate import LabelJoinError, write_json

    data_dir = data_dir or Path(current_app.config["DATA_DIR"])
    try:
        results = scoring.evaluate(_models_dir(), data_dir, split, version, labels_path=labels_path)
    except LabelJoinError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(scoring.format_report(results))
    if json_path:
        write_json(results, json_path)
        click.echo(f"results written to {json_path}")


@main.group("models")
def models_group():
    """Model versions: list, promote, roll back."""


@models_group.command("list")
@with_appcontext
def models_list():
    """List the model versions, the active one marked with *."""
    from moderation import scoring

    for manifest in scoring.list_versions(_models_dir()):
        mark = "*" if manifest.get("active") else " "
        click.echo(f"{mark} {manifest['version']}  {manifest.get('created', '')}")


@models_group.command("promote")
@click.argument("version")
@with_database
def models_promote(version):
    """Make VERSION the active model; workers pick it up on their next comment."""
    from moderation import scoring
    from moderation.services import versions

    try:
        versions.promote(_models_dir(), version, via="cli")
    except scoring.ModelLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"active model: {version}")


@models_group.command("rollback")
@with_database
def models_rollback():
    """Go back to the previously active model."""
    from moderation import scoring
    from moderation.services import versions

    try:
        version = versions.roll_back(_models_dir(), via="cli")
    except scoring.ModelLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"active model: {version}")


if __name__ == "__main__":
    main()
