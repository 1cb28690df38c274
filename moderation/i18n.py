"""Translations: Russian first, then Kazakh and English, chosen by Accept-Language."""
from flask import request
from flask_babel import Babel

from moderation import PACKAGE_DIR

LOCALES = ("ru", "kk", "en")
babel = Babel()


def select_locale():
    """Pick the reader's language from Accept-Language; Russian when nothing matches."""
    return request.accept_languages.best_match(LOCALES) or "ru"


def init_app(app):
    """Bind Flask-Babel with the package's translations."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PACKAGE_DIR / "translations"))
    babel.init_app(app, locale_selector=select_locale)
