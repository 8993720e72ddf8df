"""A live ``curate serve`` app and a headless Chromium, for the browser tests and the screenshots.

The app runs under uvicorn in a thread, on a socket bound to a free loopback port before the
server starts (so there is no race for the port). Chromium is Debian's ``/usr/bin/chromium``
driven by Playwright, with a fresh profile and every background network feature off; the page's
requests to anything but the app are aborted and recorded, so a page that fetched an asset from
the network would be caught.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    """The URL of a running app; ``stop`` ends it."""

    url: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def live_server(app: Any, *, startup_seconds: float = 20.0) -> Iterator[LiveServer]:
    """Serve ``app`` on ``http://127.0.0.1:PORT`` for the duration of the block."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_seconds
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    live = LiveServer(url=f"http://127.0.0.1:{port}", server=server, thread=thread)
    try:
        yield live
    finally:
        live.stop()
        sock.close()


@dataclass
class Browser:
    """A Chromium context and what its pages reported: console errors, dialogs, blocked requests."""

    context: Any
    base: str
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def page(self) -> Any:
        page = self.context.new_page()

        def on_console(msg: Any) -> None:
            if msg.type == "error":
                self.console_errors.append(f"{page.url}: {msg.text}")

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{page.url}: {dialog.type} {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"{page.url}: {exc}"))
        page.on("dialog", on_dialog)
        return page


@contextmanager
def chromium(base: str, *, width: int = 1280, height: int = 900) -> Iterator[Browser]:
    """A headless Chromium whose pages may only reach ``base``."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="curate-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        browser = Browser(context=context, base=base)

        def guard(route: Any) -> None:
            if route.request.url.startswith(base + "/") or route.request.url == base:
                route.continue_()
            else:
                browser.blocked.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        try:
            yield browser
        finally:
            context.close()
