"""Build the WordPress plugin: compile its translations (.po -> .mo) and zip the folder as `moderation/`.

    python integrations/build_wordpress.py [OUTPUT.zip]     # `make wordpress-plugin`; default dist/moderation.zip

The .mo files are committed too, so that the folder itself is an installable plugin; the tests check that
they match the .po files.
"""

import io
import struct
import sys
import zipfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PLUGIN = Path(__file__).resolve().parent / "wordpress"
ROOT = PLUGIN.parents[1]
SLUG = "moderation"  # the folder WordPress installs it into: wp-content/plugins/moderation/


def compile_translations(plugin=PLUGIN):
    """Write each languages/*.po as the .mo WordPress reads; return the .mo paths."""
    written = []
    for po in sorted((plugin / "languages").glob("*.po")):
        with po.open("rb") as source:
            catalog = read_po(source)
        mo = po.with_suffix(".mo")
        mo.write_bytes(wordpress_mo(catalog))
        written.append(mo)
    return written


def wordpress_mo(catalog):
    """The catalog as a .mo file WordPress's reader accepts.

    Babel leaves the (empty) hash table's offset at 0; WordPress's MO class insists it follow the translations'
    table, as GNU msgfmt writes it, and otherwise loads nothing.
    """
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    data = bytearray(buffer.getvalue())
    total, _originals, translations, hash_size = struct.unpack_from("<4I", data, 8)
    if hash_size == 0:
        struct.pack_into("<I", data, 24, translations + 8 * total)
    return bytes(data)


def build_zip(output, plugin=PLUGIN):
    """The plugin folder as an installable zip (Plugins → Add New → Upload)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(plugin.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, f"{SLUG}/{path.relative_to(plugin).as_posix()}")
    return output


def main(argv):
    compile_translations()
    output = build_zip(Path(argv[1]) if len(argv) > 1 else ROOT / "dist" / f"{SLUG}.zip")
    print(output)


if __name__ == "__main__":
    main(sys.argv)
