"""Bearer-key authentication of the calling website."""

from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l

from moderation.errors import error_response
from moderation.services import sites


def bearer_token():
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def bearer_required(authenticate, message, name):
    """A view decorator: let the view run only when `authenticate(token)` finds someone; they are in g.<name>."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            found = authenticate(bearer_token())
            if found is None:
                response = error_response(401, str(message))
                response.headers["WWW-Authenticate"] = 'Bearer realm="moderation"'
                return response
            setattr(g, name, found)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# The calling website, by its site key.
site_required = bearer_required(sites.authenticate, _l("A valid API key is required."), "site")
