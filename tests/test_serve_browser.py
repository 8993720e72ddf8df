"""``curate serve`` in a real browser: headless Chromium (Debian's) driven by Playwright.

The app runs under uvicorn on a loopback port (tests/serve_harness.py); every request the
pages make to anything else is aborted and fails the test. These tests skip when
``/usr/bin/chromium`` or Playwright is absent; ``.ci/run`` installs chromium, so CI runs them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serve_harness import CHROMIUM, Browser, chromium, live_server
from test_card_fixture import make_run

import curate.registry as registry
from curate.serve.app import create_app

pytest.importorskip("playwright", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    base = tmp_path_factory.mktemp("serve")
    reg = base / "registry"
    registry.publish(make_run(base / "v1", n=20), "web-sample", registry=reg)
    registry.publish(make_run(base / "v2", n=24), "web-sample", registry=reg)
    app = create_app(roots=[base], registry=str(reg))
    with live_server(app) as server, chromium(server.url) as browser:
        yield browser


def _clean(browser: Browser) -> None:
    assert browser.console_errors == []
    assert browser.dialogs == []
    assert browser.blocked == []


@pytest.mark.parametrize(
    "path",
    [
        "/registry",
        "/registry/web-sample",
        "/registry/web-sample/1.1.0",
        "/registry/web-sample/1.1.0/lineage",
        "/registry/web-sample/1.1.0/verify",
        "/registry/-/diff",
    ],
)
def test_registry_pages_load_without_console_errors(served: Browser, path: str) -> None:
    page = served.page()
    response = page.goto(served.base + path)
    assert response is not None and response.status == 200
    assert page.locator("h1").count() == 1
    page.close()
    _clean(served)


def test_the_diff_form_compares_the_versions_the_user_picks(served: Browser) -> None:
    page = served.page()
    page.goto(served.base + "/registry/-/diff")
    page.select_option("select[name=a]", "web-sample@1.0.0")
    page.select_option("select[name=b]", "web-sample@1.1.0")
    page.click("button[type=submit]")
    page.wait_for_url("**/registry/-/diff?a=web-sample%401.0.0&b=web-sample%401.1.0")
    assert page.inner_text("h2") == "web-sample@1.0.0 → web-sample@1.1.0"
    assert page.inner_text("td.added") == "+4"
    page.close()
    _clean(served)


def test_a_path_outside_the_served_roots_is_refused(served: Browser) -> None:
    page = served.page()
    for path in ("/static/..%2F..%2F..%2Fetc%2Fpasswd", "/registry/..%2F..%2Fetc%2Fpasswd"):
        response = page.goto(served.base + path)
        assert response is not None and response.status in (400, 403, 404)
        assert "root:" not in page.content()
    page.close()
