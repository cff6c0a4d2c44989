"""The notice bot's webhook (`ape run keeper --role notifier --webhook URL`): each notice line is
POSTed as it is printed, its JSON as the body, with a timeout. A hook that is down never stops
the bot: the first failure writes one line on stderr, later posts are skipped for `pause`
seconds (a hook that times out would otherwise hold every round for the timeout per line), and
the first success after failures writes one line saying how many lines it missed. The lines are
on stdout whatever the hook does."""

from __future__ import annotations

import http.client
import sys
import time
import urllib.error
import urllib.request
from typing import TextIO
from urllib.parse import urlsplit

__all__ = ["Webhook", "check_webhook_url"]


def check_webhook_url(url: str) -> str:
    """`url` if it is an http(s) URL with a host (and a port in range); else ValueError, one line
    naming --webhook."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        ok = ok and (parts.port is None or parts.port > 0)  # .port: ValueError out of range
        ok = ok and not any(c.isspace() for c in url)  # ("http://exa mple.test/x" was taken)
    except ValueError:  # "http://[::1", a port that is not a number
        ok = False
    if not ok:
        raise ValueError(f"--webhook {url!r} is not an http(s) URL (http://HOST[:PORT]/PATH)")
    return url


class Webhook:
    """POSTs lines to `url` (see the module docstring)."""

    def __init__(
        self, url: str, timeout: float = 2.0, pause: float = 10.0, errors: TextIO | None = None
    ):
        self.url, self.timeout, self.pause = check_webhook_url(url), timeout, pause
        self.errors = errors or sys.stderr
        self.failures = 0  # posts failed or skipped since the last success
        self.down_until = 0.0  # monotonic time before which posts are skipped

    def post(self, line: str) -> bool:
        """Deliver one line; whether the hook took it (a 2xx answer)."""
        if self.failures and time.monotonic() < self.down_until:
            self.failures += 1
            return False
        request = urllib.request.Request(
            self.url,
            data=line.encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                reply.read()
        except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts
            if not self.failures:
                self._say(
                    f"keeper: webhook {self.url}: {_reason(exc)}; notices stay on stdout, "
                    f"posts paused {self.pause:g} s at a time until it answers"
                )
            self.failures += 1
            self.down_until = time.monotonic() + self.pause
            return False
        if self.failures:
            self._say(f"keeper: webhook {self.url} answers again ({self.failures} lines missed)")
            self.failures = 0
        return True

    def _say(self, text: str) -> None:
        self.errors.write(text + "\n")
        self.errors.flush()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__
