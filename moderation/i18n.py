"""Translations: Russian first, then Kazakh and English, chosen by Accept-Language."""

from flask import request, session
from flask_babel import Babel

from moderation import PACKAGE_DIR

LOCALES = ("ru", "kk", "en")
babel = Babel()


def select_locale():
    """The dashboard speaks the language its user chose, Russian by default; the API follows Accept-Language."""
    if request.path.startswith("/dashboard"):
        return session.get("locale") or "ru"
    return request.accept_languages.best_match(LOCALES) or "ru"


def init_app(app):
    """Bind Flask-Babel with the package's translations."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PACKAGE_DIR / "translations"))
    babel.init_app(app, locale_selector=select_locale)
