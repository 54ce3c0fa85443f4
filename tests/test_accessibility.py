"""What every page offers everyone: an icon, a way past the menu, fields one can see."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.webclient import client_as

pytestmark = pytest.mark.sqlite_only
STYLE = Path(__file__).parents[1] / "web" / "static" / "style.css"


@pytest.fixture
def app(demo, make_web_app):  # type: ignore[no-untyped-def]
    return make_web_app(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY="a11y")


def test_the_icon_is_served_and_no_page_asks_for_a_missing_one(app) -> None:
    client = app.test_client()
    old = client.get("/favicon.ico")
    assert old.status_code == 301 and old.headers["Location"].endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()
    page = client.get("/login").text
    assert 'rel="icon"' in page and "favicon.svg" in page


def test_htmx_is_served_from_the_package_at_the_locked_version_under_a_strict_policy(app) -> None:
    import json

    root = Path(__file__).parents[1]
    locked = json.loads((root / "package-lock.json").read_text())
    version = locked["packages"]["node_modules/htmx.org"]["version"]
    client = client_as(app, "curator1")
    served = client.get("/static/vendor/htmx.min.js")
    assert served.status_code == 200 and "javascript" in served.mimetype
    assert f'version:"{version}"' in served.text.replace(" ", "")
    served.close()
    assert "Zero-Clause BSD" in (root / "web" / "static" / "vendor" / "htmx.LICENSE").read_text()
    page = client.get("/queue")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page.text)
    assert config and json.loads(config.group(1))["allowEval"] is False
    assert "vendor/htmx.min.js" in page.text


def test_every_page_has_a_skip_link_to_its_content(app) -> None:
    for login, path in (("school1", "/"), ("coordinator", "/dashboard"), ("curator1", "/queue")):
        page = client_as(app, login).get(path, follow_redirects=True).text
        skip = re.search(r'<a class="skip" href="#(\w+)">', page)
        assert skip and f'id="{skip.group(1)}"' in page, path


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_field_edges_and_muted_text_have_the_contrast_wcag_asks() -> None:
    css = STYLE.read_text(encoding="utf-8")
    colours = dict(re.findall(r"--(\w+):\s*(#[0-9a-fA-F]{6})", css))
    white = _luminance("#ffffff")

    def ratio(name: str) -> float:
        return (white + 0.05) / (_luminance(colours[name]) + 0.05)

    assert ratio("field") >= 3  # WCAG 1.4.11: the edge of an input against white
    assert ratio("muted") >= 4.5  # WCAG 1.4.3: small text
    assert re.search(r"input, select, textarea \{ border-color: var\(--field\)", css)
    assert ":focus-visible" in css
