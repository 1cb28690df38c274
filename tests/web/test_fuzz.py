"""Hostile-input fuzzing: thousands of generated requests, and never a 5xx; every API error is the contract's JSON."""

import json
import time
import uuid
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.api.forms import FIELDS
from moderation.services import sites, users
from tests.web.dashboard_support import configure, make_site, make_user, seed_comment, sign_in

# Fixed examples (derandomize) so every run sends the same requests; no example database to keep between runs.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text as a hostile client sends it: any code point, control characters and lone surrogates included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\r\n",
        "\t",
        "\u200b\u200b",
        "\ufeff",
        "\u202e",
        "\ud800",
        "\udfff x",
        "ы" * 6000,
        "a" * 70_000,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%00",
        "%0d%0a",
        "http://[::1",
        "javascript:alert(1)",
        "fe80::1%eth0",
        "::ffff:1.2.3.4",
        "256.1.1.1",
        "1e309",
        "NaN",
        "-0",
        "𝕏" * 30,
        "Й",
        "user@",
        "@x",
        "a@b",
        "http://",
        "https://пример.рф/ы?a=%ZZ",
        "\\\\evil",
        "null",
        "[]",
        "{}",
    ]
)
VALID = {
    "name": st.sampled_from(["Айгерим", "Ли", "Reader", "Оқырман"]),
    "text": st.text(st.characters(categories=["L", "N", "Zs", "P"]), min_size=1, max_size=300),
    "email": st.emails().map(str),
    "url": st.sampled_from(["https://example.kz/", "http://news.example.kz/a?b=1"]),
    "author_ip": st.ip_addresses().map(str),
}
JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT | NASTY
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT | st.sampled_from(FIELDS), children, max_size=4)
    ),
    max_leaves=12,
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60)
LANGUAGES = st.sampled_from(["ru", "kk", "en", "kk-KZ,ru;q=0.8", "*", "", "xx;q=abc", ";;;", "en;q=1e309", "ru;q=-1"])
CONTENT_TYPES = (
    st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=b0und",
            "multipart/form-data",
            "text/plain",
            "application/json; charset=latin-1",
            "application/json; charset=utf-16",
            "application/vnd.api+json",
            "",
            "application/x-www-form-urlencoded; charset=koi8-r",
        ]
    )
    | HEADER_TEXT
)


def field_value(name):
    """A value for one comment field: valid, nasty, random text, or not text at all."""
    valid = VALID.get(name, ANY_TEXT)
    return st.one_of(
        valid,
        valid,
        NASTY,
        ANY_TEXT,
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.lists(ANY_TEXT, max_size=2),
        st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=2),
    )


@st.composite
def comments(draw):
    """A valid comment with up to four fields made hostile (or missing), or any JSON object at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.dictionaries(ANY_TEXT, ANY_JSON, max_size=3))
    comment = {"name": draw(VALID["name"]), "text": draw(VALID["text"])}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        if draw(st.booleans()) and name in comment:
            del comment[name]
        else:
            comment[name] = draw(field_value(name))
    return comment


COMMENT = comments()


def encode_text(value):
    """A str as UTF-8, lone surrogates included as the invalid bytes a broken client would send."""
    return str(value).encode("utf-8", "surrogatepass")


def multipart(fields):
    """A multipart/form-data body with boundary b0und."""
    parts = [
        b'--b0und\r\nContent-Disposition: form-data; name="' + encode_text(k) + b'"\r\n\r\n' + encode_text(v)
        for k, v in fields.items()
    ]
    return b"\r\n".join(parts) + b"\r\n--b0und--\r\n"


@st.composite
def bodies(draw, json_objects):
    """(content type, body bytes): JSON, form, multipart or raw bytes under a matching or a random content type."""
    kind = draw(st.sampled_from(["json", "json", "json", "form", "form", "multipart", "raw", "deep"]))
    obj = draw(json_objects)
    if kind == "json":
        body = json.dumps(obj, ensure_ascii=draw(st.booleans()), allow_nan=True).encode("utf-8", "surrogatepass")
    elif kind == "form":
        pairs = obj.items() if isinstance(obj, dict) else [("text", obj)]
        body = urlencode([(str(k), str(v)) for k, v in pairs], errors="surrogatepass").encode()
    elif kind == "multipart":
        body = multipart(obj if isinstance(obj, dict) else {"text": obj})
    elif kind == "deep":
        body = (draw(st.sampled_from(["[", '{"a":'])) * draw(st.integers(100, 20_000))).encode()
    else:
        body = draw(st.binary(max_size=300))
    default = {
        "json": "application/json",
        "form": "application/x-www-form-urlencoded",
        "multipart": "multipart/form-data; boundary=b0und",
    }.get(kind, "application/json")
    return draw(st.one_of(st.just(default), st.just(default), CONTENT_TYPES)), body


def headers(*tokens):
    """Authorization (usually a right one), Accept-Language, Accept and a forwarded address."""
    right = [f"Bearer {token}" for token in tokens]
    wrong = ["Bearer wrong", "", "Bearer ", "Basic dXNlcjpwYXNz", f"bearer {tokens[0]}", f"Bearer {tokens[0]}x"]
    authorization = st.one_of(
        st.sampled_from(right),
        st.sampled_from(right),
        st.sampled_from(right),
        st.sampled_from(wrong),
        HEADER_TEXT.map(lambda t: "Bearer " + t),
    )
    accept = st.sampled_from(["application/json", "text/html", "*/*", ""]) | HEADER_TEXT
    return st.fixed_dictionaries(
        {"Authorization": authorization},
        optional={"Accept-Language": LANGUAGES | HEADER_TEXT, "Accept": accept, "X-Forwarded-For": HEADER_TEXT},
    )


class Checker:
    """Sends the requests and checks every answer; counts them for the report."""

    def __init__(self, client):
        self.client, self.count, self.statuses = client, 0, {}

    def send(self, method, path, **kwargs):
        """Send one request; no 5xx, and an API error is JSON with an "error"."""
        response = self.client.open(path, method=method, **kwargs)
        self.count += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (method, path, response.status_code, response.get_data()[:500])
        if path.startswith("/api/") and response.status_code >= 400:
            assert response.mimetype == "application/json", (path, response.status_code, response.get_data()[:300])
            assert isinstance(response.json.get("error"), str), response.json
        return response

    def report(self, what, started):
        """Print how many requests went out and what came back (shown with -s)."""
        print(f"\nfuzz {what}: {self.count} requests in {time.monotonic() - started:.1f} s, statuses {self.statuses}")


@pytest.fixture
def fuzz_app(make_app):
    """An app whose API limits are out of the way, so generated requests reach validation and storage."""
    return make_app(API_KEY_LIMIT="1000000 per second", API_AUTHOR_LIMIT="1000000 per minute")


def new_site_key(app):
    """A new site's API key."""
    with app.app_context():
        return sites.create_site(f"fuzz-{uuid.uuid4().hex[:6]}")[1]


def test_intake(fuzz_app):
    """POST /api/v1/comments: bodies of every kind, for a site without a flood interval and one with it."""
    keys = [new_site_key(fuzz_app), new_site_key(fuzz_app)]
    configure(fuzz_app, keys[0], flood_seconds=0)
    checker, started = Checker(fuzz_app.test_client()), time.monotonic()

    @settings(FUZZ, max_examples=1500)
    @given(bodies(COMMENT), headers(*keys))
    def post(body, request_headers):
        content_type, data = body
        checker.send("POST", "/api/v1/comments", data=data, headers={**request_headers, "Content-Type": content_type})

    post()
    checker.report("intake", started)


def test_moderate_api(fuzz_app):
    """POST /api/v1/comments/<id>/moderate with a moderator's token: generated ids, actions, reasons, bodies."""
    login = make_user(fuzz_app)
    with fuzz_app.app_context():
        token = users.issue_token(users.find_user(login))
    site_id = make_site(fuzz_app)
    ids = [seed_comment(fuzz_app, site_id) for _ in range(5)]
    checker, started = Checker(fuzz_app.test_client()), time.monotonic()
    action = st.sampled_from(["approve", "reject", "spam", "APPROVE", "", "ban", None]) | ANY_JSON
    reason = (
        st.sampled_from(["insult", "obscenity", "threat", "hate", "off-topic", "other", "", None, "x" * 100]) | ANY_JSON
    )
    body = st.fixed_dictionaries({"action": action}, optional={"reason": reason, "extra": ANY_JSON}) | ANY_JSON
    comment = (
        st.sampled_from(ids)
        | st.sampled_from(ids)
        | st.integers(0, 2**31 - 1).map(str)
        | ANY_TEXT.map(lambda t: quote(encode_text(t), safe=""))
    )

    @settings(FUZZ, max_examples=700)
    @given(comment, bodies(body), headers(token))
    def post(comment_id, body, request_headers):
        content_type, data = body
        checker.send(
            "POST",
            f"/api/v1/comments/{comment_id}/moderate",
            data=data,
            headers={**request_headers, "Content-Type": content_type},
        )

    post()
    checker.report("moderate API", started)


QUERY_KEYS = (
    st.sampled_from(
        [
            "status",
            "order",
            "site",
            "article",
            "reason",
            "lang",
            "min",
            "max",
            "q",
            "email",
            "ip",
            "campaign",
            "after",
            "limit",
            "user",
            "comment",
            "before",
            "action",
            "days",
            "next",
        ]
    )
    | ANY_TEXT
)
QUERY_VALUES = (
    st.sampled_from(
        [
            "held",
            "all",
            "risk",
            "newest",
            "1",
            "-1",
            "0",
            "2147483648",
            "1e309",
            "nan",
            "0.5~3",
            "2026-01-01T00:00:00~1",
            "inf~1",
            "ru",
            "",
        ]
    )
    | NASTY
    | ANY_TEXT
)


def path_part(text):
    """Text as one percent-encoded path segment."""
    return quote(encode_text(text), safe="")


def test_get_routes(fuzz_app):
    """The API's and the dashboard's (signed in as an admin) GET routes with generated paths and queries."""
    key = new_site_key(fuzz_app)
    api = Checker(fuzz_app.test_client())
    dashboard = Checker(fuzz_app.test_client())
    assert sign_in(dashboard.client, make_user(fuzz_app, role="admin")).status_code == 302
    segment = st.integers(-5, 2**40).map(str) | (ANY_TEXT | NASTY).map(path_part)
    pages = st.sampled_from(
        [
            "/dashboard/",
            "/dashboard/",
            "/dashboard/audit",
            "/dashboard/stats",
            "/dashboard/login",
            "/dashboard/admin/sites",
            "/dashboard/admin/users",
            "/dashboard/admin/reasons",
            "/dashboard/admin/bans",
            "/dashboard/admin/thresholds",
            "/dashboard/admin/rules",
            "/dashboard/admin/models",
        ]
    )
    api_paths = st.one_of(
        segment.map(lambda s: f"/api/v1/comments/{s}"),
        segment.map(lambda s: f"/api/v1/articles/{s}/comments"),
        st.lists(segment, min_size=1, max_size=3).map(lambda s: "/api/v1/articles/" + "/".join(s) + "/comments"),
        segment.map(lambda s: f"/api/v1/{s}"),
    )
    dashboard_paths = pages | st.sampled_from(["comments", "admin/rules", "admin/models/jobs", ""]).flatmap(
        lambda route: segment.map(lambda s: f"/dashboard/{route}/{s}".replace("//", "/"))
    )
    query = st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=5).map(
        lambda pairs: urlencode(pairs, errors="surrogatepass")
    )

    for checker, paths in ((api, api_paths), (dashboard, dashboard_paths)):
        started = time.monotonic()
        fuzz_gets(checker, paths, query, headers(key))
        checker.report("GET " + ("API" if checker is api else "dashboard"), started)


def fuzz_gets(checker, paths, query, request_headers):
    """GET generated paths with generated query strings and headers."""

    @settings(FUZZ, max_examples=450)
    @given(paths, query, request_headers)
    def get(path, query_string, headers_):
        checker.send("GET", path, query_string=query_string, headers=headers_)

    get()
