"""The `moderation` command."""
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade


def _create_app():
    from moderation import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             load_dotenv=False, set_debug_flag=False)
def main():
    """Comment moderation service."""


@main.command("run")
@with_appcontext
def run_command():
    """Migrate the database, then run web and worker (and Redis if none is configured)."""
    from moderation.runner import run_all

    upgrade(directory=current_app.extensions["migrate"].directory)
    sys.exit(run_all(current_app._get_current_object()))


@main.group("site")
def site_group():
    """Websites that post comments."""


@site_group.command("add")
@click.argument("name")
@with_appcontext
def site_add(name):
    """Create a site; its API key is printed alone on the last line."""
    from moderation.services import sites

    site, key = sites.create_site(name)
    click.echo(f"site {site.id} {site.name!r} created; its API key (shown once):")
    click.echo(key)
