"""Akismet-compatible API: POST /1.1/verify-key, /1.1/comment-check, /1.1/submit-spam, /1.1/submit-ham.

Form-encoded, answered in plain text as Akismet answers (always 200; `invalid` for a key it does not know,
with X-akismet-debug-help saying why). The key is the site's key, in `api_key`, `key` or, as older clients
send it, the host's first label (KEY.moderation.example.kz). comment-check scores at once: it never waits for
the queue. A comment the filter holds for a moderator is not spam to Akismet's clients (`false`), and
X-Moderation-Status tells clients that care.
"""

import ipaddress

from flask import Blueprint, current_app, g, make_response, request

from moderation.compat import comment_fields
from moderation.extensions import limit_key, limiter
from moderation.models import SPAM
from moderation.services import instant, sites
from moderation.services.review import APPROVE, MARK_SPAM

bp = Blueprint("akismet", __name__, url_prefix="/1.1")

THANKS = "Thanks for making the web a better place."
TRUE_VALUES = {"1", "true", "yes"}


def text_answer(body, **headers):
    response = make_response(body, 200)
    response.mimetype = "text/plain"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def invalid(help_text):
    return text_answer("invalid", **{"X-akismet-debug-help": help_text})


def form_key():
    """The key in a form field, as current clients send it."""
    return request.form.get("api_key") or request.form.get("key")


def host_label():
    """The first label of the host name, where older clients put the key (KEY.rest.akismet.com); None for an IP."""
    # The raw header: werkzeug's request.host is empty for names with "_", which base64url keys contain.
    raw = request.headers.get("Host", "")
    host = raw if raw.endswith("]") else raw.rsplit(":", 1)[0]
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        label, dot, _rest = host.partition(".")
        return label if dot else None


def request_key():
    return form_key() or host_label()


@bp.before_request
def authenticate():
    key = form_key()
    if key:
        g.site = instant.site_for_key(key)
        if g.site is not None:
            sites.remember_host_key(g.site, key)
    else:
        g.site = sites.authenticate_host_label(host_label())
    if g.site is None and request.endpoint != "akismet.verify_key":
        return invalid("Invalid API key. Use the site's key from `moderation site add`.")
    return None


@bp.errorhandler(413)
def too_large(_error):
    return text_answer("Comment too long.", **{"X-akismet-debug-help": "The request body is over the size limit."})


@bp.errorhandler(429)
def too_many(_error):
    return text_answer(
        "false",
        **{
            "X-akismet-error": "rate limited",
            "X-akismet-alert-code": "10402",
            "X-akismet-alert-msg": "Too many requests for this site's key; try later.",
        },
    )


def _site_limit():
    return current_app.config["API_KEY_LIMIT"]


def _site_key():
    return limit_key("site", g.site.id if g.site else 0)


@bp.post("/verify-key")
def verify_key():
    """`valid` for a site's key, else `invalid`."""
    if g.site is None:
        return invalid('Empty "key" value' if not request_key() else "Invalid API key.")
    return text_answer("valid")


def read_comment():
    """(fields, error answer) of the comment a client describes; user_ip is required, as Akismet requires it."""
    form = request.form
    if not form.get("user_ip", "").strip():
        return None, text_answer(
            "Missing required field: user_ip.", **{"X-akismet-debug-help": 'Empty "user_ip" value'}
        )
    text = form.get("comment_content", "")
    if len(text.encode("utf-8")) > instant.TEXT_MAX_BYTES:
        return None, text_answer(
            "Comment too long.", **{"X-akismet-debug-help": f"comment_content is over {instant.TEXT_MAX_BYTES} bytes"}
        )
    fields = comment_fields(
        text,
        name=form.get("comment_author"),
        email=form.get("comment_author_email"),
        url=form.get("comment_author_url"),
        author_ip=form.get("user_ip"),
        user_agent=form.get("user_agent"),
        referrer=form.get("referrer"),
        article_url=form.get("permalink"),
    )
    if fields.get("article_url"):
        fields["article_id"] = fields["article_url"][:200]
    return fields, None


@bp.post("/comment-check")
@limiter.limit(_site_limit, key_func=_site_key)
def comment_check():
    """`true` for spam (with X-akismet-pro-tip: discard when blatant), else `false`; stored unless is_test."""
    fields, error = read_comment()
    if error:
        return error
    if not fields["text"] or request.form.get("user_role", "").lower() == "administrator":
        return text_answer("false")  # nothing to judge, or the site's staff: Akismet's clients expect ham
    store = request.form.get("is_test", "").strip().lower() not in TRUE_VALUES
    judgement = instant.judge(g.site, fields, store=store)
    headers = {"X-Moderation-Status": judgement.status}
    if judgement.comment_id:
        headers["X-akismet-guid"] = str(judgement.comment_id)
    if judgement.blatant_spam:
        headers["X-akismet-pro-tip"] = "discard"
    return text_answer("true" if judgement.status == SPAM else "false", **headers)


@bp.post("/submit-spam")
@limiter.limit(_site_limit, key_func=_site_key)
def submit_spam():
    """The site's verdict: spam (a training label)."""
    return _submit(MARK_SPAM)


@bp.post("/submit-ham")
@limiter.limit(_site_limit, key_func=_site_key)
def submit_ham():
    """The site's verdict: not spam, a comment the filter should have let through (a training label)."""
    return _submit(APPROVE)


def _submit(action):
    fields, error = read_comment()
    if error:
        return error
    if fields["text"]:
        instant.record_verdict(g.site, fields, action)
    return text_answer(THANKS)
