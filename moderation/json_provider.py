"""The app's JSON: readable Cyrillic out, and JSON too deeply nested to parse is malformed JSON in."""

from flask.json.provider import DefaultJSONProvider


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON with ensure_ascii off and a parser that never raises RecursionError."""

    ensure_ascii = False  # readable Cyrillic in every JSON answer

    def loads(self, s, **kwargs):
        """Parse JSON; nesting deeper than Python's recursion limit is a ValueError, as any malformed JSON is.

        Flask and werkzeug turn a ValueError from here into the usual 400 (or None with silent=True); a
        RecursionError would escape every `get_json` and every rate-limit key function as a 500.
        """
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
