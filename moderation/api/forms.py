"""Validation of a comment as a website posts it, with the site form's own wording, and of a reader's complaint."""

import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField, ValidationError
from wtforms.validators import AnyOf, DataRequired, Email, IPAddress, Length, Optional

from moderation.services import complaints

NAME_MAX, TEXT_MAX = 100, 5000
FIELDS = (
    "name",
    "text",
    "email",
    "url",
    "article_id",
    "article_url",
    "article_title",
    "parent_id",
    "author_ip",
    "user_agent",
    "referrer",
)
# C0 control characters other than tab and newlines (PostgreSQL refuses NUL and none belong in a comment),
# and lone surrogates, which JSON can carry but no database can store.
UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Whitespace and invisible characters that make a field look filled when it is blank.
EDGE_CHARS = " \t\n\r\u00a0\u200b\u200c\u200d\u2060\ufeff\u3000"


def clean(value):
    """Drop unstorable characters and trim whitespace and invisible characters at both ends."""
    if not isinstance(value, str):
        return value
    return UNSTORABLE.sub("", value).strip().strip(EDGE_CHARS)


def lower(value):
    """Lower-case a code, so that "Spam" is spam."""
    return value.lower() if isinstance(value, str) else value


def truncate(limit):
    """A filter that cuts a free-form header-like value to its column size."""
    return lambda value: value[:limit] if isinstance(value, str) else value


def http_url(form, field):
    """Accept only absolute http(s) addresses: anything else could become a script link."""
    try:
        parts = urlsplit(field.data)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        valid = False
    if not valid:
        raise ValidationError(_l("Please enter a valid web address (http:// or https://)."))


def too_long(limit):
    """The generic message for an optional field that is too long."""
    return Length(max=limit, message=_l("Must be at most %(max)d characters."))


class CommentForm(Form):
    """The fields of POST /api/v1/comments."""

    name = StringField(
        filters=[clean],
        validators=[
            DataRequired(message=_l("please enter your name here")),
            Length(max=NAME_MAX, message=_l("Name must be at most %(max)d characters.")),
        ],
    )
    text = StringField(
        filters=[clean],
        validators=[
            DataRequired(message=_l("Please enter your comment!")),
            Length(max=TEXT_MAX, message=_l("Comment must be at most %(max)d characters.")),
        ],
    )
    email = StringField(
        filters=[clean],
        validators=[
            Optional(),
            too_long(254),
            Email(message=_l("Please enter a valid email address."), check_deliverability=False),
        ],
    )
    url = StringField(filters=[clean], validators=[Optional(), too_long(2000), http_url])
    article_id = StringField(filters=[clean], validators=[Optional(), too_long(200)])
    article_url = StringField(filters=[clean], validators=[Optional(), too_long(2000), http_url])
    article_title = StringField(filters=[clean, truncate(500)], validators=[Optional()])
    parent_id = StringField(filters=[clean], validators=[Optional(), too_long(200)])
    author_ip = StringField(
        filters=[clean],
        validators=[
            Optional(),
            IPAddress(ipv4=True, ipv6=True, message=_l("Please enter a valid IP address.")),
            too_long(45),
        ],
    )
    user_agent = StringField(filters=[clean, truncate(500)], validators=[Optional()])
    referrer = StringField(filters=[clean, truncate(2000)], validators=[Optional()])

    def cleaned(self):
        """The valid values, with empty optional fields as None; e-mail lower-case, to find an author's comments."""
        values = {name: (self[name].data or None) for name in FIELDS}
        if values["email"]:
            values["email"] = values["email"].lower()
        return values


class ComplaintForm(Form):
    """The fields of POST /api/v1/comments/<id>/reports."""

    reporter = StringField(
        filters=[clean],
        validators=[
            DataRequired(message=_l("Please say which reader complains (an account id, an e-mail or an IP).")),
            Length(max=complaints.REPORTER_MAX, message=_l("Reporter must be at most %(max)d characters.")),
        ],
    )
    reason = StringField(
        filters=[clean, lower],
        validators=[
            AnyOf(complaints.REASONS, message=_l("Choose a reason: insult, spam, threat, hate, illegal or other.")),
        ],
    )
    text = StringField(
        filters=[clean],
        validators=[
            Optional(),
            Length(max=complaints.TEXT_MAX, message=_l("Complaint must be at most %(max)d characters.")),
        ],
    )


COMPLAINT_FIELDS = ("reporter", "reason", "text")


def formdata_from_json(body, fields=FIELDS):
    """Turn a JSON object into form data; return (MultiDict, type errors per field)."""
    data, errors = MultiDict(), {}
    for key, value in body.items():
        if key not in fields or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            errors[key] = str(_l("Must be text."))
            continue
        data[key] = str(value)
    return data, errors
