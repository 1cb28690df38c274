"""Bearer-key authentication of the calling website."""
from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from moderation.errors import error_response
from moderation.services import sites


def bearer_token():
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def site_required(view):
    """Let the view run only for a known site key; the site is in g.site."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        site = sites.authenticate(bearer_token())
        if site is None:
            response = error_response(401, _("A valid API key is required."))
            response.headers["WWW-Authenticate"] = 'Bearer realm="moderation"'
            return response
        g.site = site
        return view(*args, **kwargs)

    return wrapped
