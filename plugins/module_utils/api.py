# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Heroku and Northflank clients share: one requests.Session, timeouts, retries with
capped exponential backoff and jitter, rate-limit waits, and request counting per route.

The API-specific parts (auth headers, envelopes, errors, rate-limit headers, pagination) are
hooks overridden in heroku.py and northflank.py.
"""

from __future__ import annotations

import os
import random
import time
import traceback

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore

try:
    import requests

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

try:
    from ansible.module_utils.basic import env_fallback
except ImportError:  # pragma: no cover - only for use outside Ansible
    env_fallback = None

IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"))
RETRYABLE_STATUSES = frozenset((500, 502, 503, 504))


class ApiError(Exception):
    """An API answered with an error, or could not be reached. ``to_dict()`` is the modules' ``failure``."""

    def __init__(self, message, status=None, error_id=None, details=None, method=None, route=None):
        super(ApiError, self).__init__(message)
        self.message = message
        self.status = status
        self.error_id = error_id
        self.details = details
        self.method = method
        self.route = route

    def to_dict(self):
        return {
            "status": self.status,
            "message": self.message,
            "id": self.error_id,
            "details": self.details,
            "request": "%s %s" % (self.method, self.route) if self.method else None,
        }

    def __str__(self):
        where = " (%s %s)" % (self.method, self.route) if self.method else ""
        status = "HTTP %s: " % self.status if self.status else ""
        return "%s%s%s" % (status, self.message, where)


class ApiResponse(object):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class ApiClient(object):
    """Base client. ``request()`` takes a route template and its parameters, so every request is
    counted under its route (``GET /v1/projects/{project}``) whatever the IDs were."""

    error_class = ApiError
    default_base_url = ""
    user_agent = "herokumigrate.northflank/1.0.0"

    def __init__(self, token, base_url=None, timeout=30, max_retries=5, max_rate_limit_wait=900,
                 validate_certs=True, ca_path=None, backoff_base=1.0, backoff_cap=60.0, sleep=None, session=None):
        if not HAS_REQUESTS:
            raise ApiError("The Python library 'requests' is required: %s" % REQUESTS_IMPORT_ERROR)
        if not token:
            raise self.error_class("No API token was given.", status=None)
        self.token = token
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep or time.sleep
        self.session = session or requests.Session()
        self.session.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self.session.headers.update(self.default_headers())
        self.counts = {}
        self.waited_seconds = 0.0
        self._resume_at = 0.0  # monotonic time before which the budget is known to be exhausted
        self.clock = time.monotonic

    # -- hooks for the API-specific subclasses --------------------------------------------
    def default_headers(self):
        return {"Authorization": "Bearer %s" % self.token, "User-Agent": self.user_agent}

    def wait_before_next(self, response):
        """Seconds to wait before the next request, judged from rate-limit headers (None: no wait)."""
        return None

    def rate_limit_wait(self, response, attempt):
        """Seconds to wait after a 429 before trying again."""
        return min(self.backoff_cap, self.backoff_base * (2 ** attempt))

    def error_from(self, response, method, route):
        return self.error_class("HTTP %s" % response.status, status=response.status, method=method, route=route)

    # -- the request cycle ----------------------------------------------------------------
    def url_for(self, route, params):
        return self.base_url + route.format(**dict((k, quote(str(v), safe="")) for k, v in params.items()))

    def count(self, method, route):
        key = "%s %s" % (method, route)
        self.counts[key] = self.counts.get(key, 0) + 1

    def request_count(self, writes_only=False):
        return sum(n for k, n in self.counts.items() if not writes_only or not k.startswith(("GET ", "HEAD ")))

    def backoff(self, attempt):
        """Capped exponential backoff with full jitter."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * (2 ** attempt)))

    def _wait(self, seconds, method, route, why):
        if seconds > self.max_rate_limit_wait:
            raise self.error_class(
                "%s: waiting %ds exceeds max_rate_limit_wait=%ds; re-run later or raise the limit" % (why, seconds, self.max_rate_limit_wait),
                status=429, error_id="rate_limit", method=method, route=route)
        if seconds > 0:
            self.waited_seconds += seconds
            self.sleep(seconds)

    def request(self, method, route, params=None, query=None, json=None, headers=None, expected=None):
        """Send one request, retrying where it is safe. Returns an ApiResponse for 2xx (and ``expected``)."""
        method = method.upper()
        url = self.url_for(route, params or {})
        attempt = 0
        while True:
            if self._resume_at:
                self._wait(self._resume_at - self.clock(), method, route, "rate-limit budget exhausted")
                self._resume_at = 0.0
            self.count(method, route)
            try:
                raw = self.session.request(method, url, params=query, json=json, headers=headers, timeout=self.timeout)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                # A POST may have reached the server before the connection broke: never repeat it blindly.
                if method in IDEMPOTENT_METHODS and attempt < self.max_retries:
                    self.sleep(self.backoff(attempt))
                    attempt += 1
                    continue
                raise self.error_class("Could not reach %s: %s" % (self.base_url, exc.__class__.__name__),
                                       method=method, route=route)
            response = ApiResponse(raw.status_code, raw.headers, self._decode(raw))
            if response.status == 429 and attempt < self.max_retries:
                # Rejected before processing, so repeating is safe for every method.
                self._wait(self.rate_limit_wait(response, attempt), method, route, "rate limit reached")
                attempt += 1
                continue
            if response.status in RETRYABLE_STATUSES and method in IDEMPOTENT_METHODS and attempt < self.max_retries:
                self.sleep(self.backoff(attempt))
                attempt += 1
                continue
            pause = self.wait_before_next(response)
            if pause:
                self._resume_at = self.clock() + pause
            if 200 <= response.status < 300 or (expected and response.status in expected):
                return response
            raise self.error_from(response, method, route)

    @staticmethod
    def _decode(raw):
        if not raw.content:
            return None
        try:
            return raw.json()
        except ValueError:
            return raw.text


def connection_argument_spec(token_env, url_env, default_url, token_aliases=None):
    """The connection options every module of one API takes (documented in that API's doc fragment)."""
    return dict(
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, [token_env]), aliases=token_aliases or []),
        api_url=dict(type="str", fallback=(env_fallback, [url_env]), default=default_url),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=5),
        max_rate_limit_wait=dict(type="int", default=900),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
    )


def client_from_params(client_class, params, token_env, url_env, **kwargs):
    """Build a client from module (or plugin) options, falling back to the environment."""
    return client_class(
        token=params.get("api_token") or os.environ.get(token_env),
        base_url=params.get("api_url") or os.environ.get(url_env) or client_class.default_base_url,
        timeout=params.get("timeout") or 30,
        max_retries=params.get("max_retries") if params.get("max_retries") is not None else 5,
        max_rate_limit_wait=params.get("max_rate_limit_wait") if params.get("max_rate_limit_wait") is not None else 900,
        validate_certs=params.get("validate_certs", True) is not False,
        ca_path=params.get("ca_path"),
        **kwargs
    )
