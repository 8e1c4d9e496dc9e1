# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Heroku and Northflank clients share: one requests.Session, timeouts, retries with
capped exponential backoff and jitter, rate-limit waits, and request counting per route.

The API-specific parts (auth headers, envelopes, errors, rate-limit headers, pagination) are
hooks overridden in heroku.py and northflank.py.
"""

from __future__ import annotations

import math
import os
import random
import re
import socket
import ssl
import time
import traceback

from urllib.parse import quote, urlsplit

try:
    import requests
    from requests.auth import AuthBase

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    requests = None
    AuthBase = object
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.herokumigrate.northflank.plugins.module_utils.rate_budget import RateBudget

try:
    from ansible.module_utils.basic import env_fallback
except ImportError:  # pragma: no cover - only for use outside Ansible
    env_fallback = None

IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"))
IDEMPOTENT_READS = frozenset(("GET", "HEAD"))
RETRYABLE_STATUSES = frozenset((500, 502, 503, 504))
# The CA bundles requests would otherwise take from the environment over the session's own ``verify``.
CA_BUNDLE_ENVS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_USERINFO = re.compile(r"(://)[^/@\s]*@")


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

    @property
    def unreachable(self):
        """True when no answer came (connection, DNS, TLS, time-out): the message then says it all."""
        return self.error_id == "unreachable"

    def in_context(self, context):
        """The message for ``fail_json``: ``context: error``, or the error's own sentence when the API was not
        reached."""
        return self.message if self.unreachable else "%s: %s" % (context, self)

    def __str__(self):
        where = " (%s %s)" % (self.method, self.route) if self.method else ""
        status = "HTTP %s: " % self.status if self.status else ""
        return "%s%s%s" % (status, self.message, where)


class ApiResponse(object):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` on every request. Set as the session's auth, it also keeps
    requests from reading ``~/.netrc`` (where ``heroku login`` stores a key) over the given token."""

    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = "Bearer %s" % self.token
        return request


def redact_url(url):
    """The URL without any user information (``user:password@``), for messages."""
    return _USERINFO.sub(r"\1", url or "")


def _causes(exc):
    """``exc`` and every exception it wraps (requests -> urllib3 -> ssl / socket), outermost first."""
    seen, queue = [], [exc]
    while queue:
        item = queue.pop(0)
        if not isinstance(item, BaseException) or any(item is s for s in seen) or len(seen) > 20:
            continue
        seen.append(item)
        queue.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        queue.extend(getattr(item, name, None) for name in ("reason", "__cause__", "__context__"))
    return seen


class SliceOver(Exception):
    """A rate-limit wait outlasts the slice of a module that waits in slices (``ApiClient.slice_end``): the module says
    it is still waiting (northflank_module.py) and the next slice goes on. The message names no secret."""


class ApiClient(object):
    """Base client. ``request()`` takes a route template and its parameters, so every request is
    counted under its route (``GET /v1/projects/{project}``) whatever the IDs were.

    The subclasses name their API and where its token and URL come from (``api_name``, the options
    ``token_option`` / ``url_option`` and the environment variables ``token_env`` / ``url_env``), so
    that every message about a missing or bad setting says which option or variable to fix."""

    error_class = ApiError
    default_base_url = ""
    user_agent = "herokumigrate.northflank/1.0.0"
    api_name = "remote"
    token_option = "api_token"
    token_env = None
    url_option = "api_url"
    url_env = None
    # The run-wide budget (rate_budget.py): requests kept in reserve, and the refill of a bucket without a reset header.
    budget_reserve = 5
    budget_refill_per_second = 0.0
    budget_capacity = None
    default_max_rate_limit_wait = 900

    def __init__(self, token, base_url=None, timeout=30, max_retries=5, max_rate_limit_wait=900,
                 validate_certs=True, ca_path=None, backoff_base=1.0, backoff_cap=60.0, sleep=None, session=None,
                 url_option=None, url_env=None, shared_budget=None, on_wait=None):
        if not HAS_REQUESTS:
            raise ApiError("The Python library 'requests' is required: %s" % REQUESTS_IMPORT_ERROR)
        if url_option:
            self.url_option, self.url_env = url_option, url_env
        self.token = self.clean_token(token)
        self.base_url = self.clean_url(base_url or self.default_base_url)
        self.host = urlsplit(self.base_url).netloc.rpartition("@")[2]
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep or time.sleep
        self.verify = self.tls_verify(validate_certs, ca_path)
        self.session = session or requests.Session()
        # Sent with every request: an explicit value is never replaced by the environment's CA bundle.
        self.session.verify = self.verify
        self.session.auth = BearerAuth(self.token)
        self.session.headers.update(self.default_headers())
        self.counts = {}
        self.waited_seconds = 0.0
        self._resume_at = 0.0  # monotonic time before which the budget is known to be exhausted
        self.clock = time.monotonic
        # Called with one sentence before every rate-limit wait (a module's ``warn``), so that a wait is visible.
        self.on_wait = on_wait
        # Set (a ``time.time()``) by a module that waits in slices (progress_interval): a rate-limit wait before a read
        # that would go past it waits until then and raises SliceOver, so that the wait shows as progress. Only while
        # nothing was written by this process, or while ``slice_anywhere`` (a poll, whose resume names what was
        # started): a write is never left unknown to the next slice.
        self.slice_end = None
        self.slice_anywhere = False
        self.waits = []
        # A client given its own ``sleep`` simulates its waits (tests): the shared ledger runs on real time, so such a
        # client keeps to its own budget unless told otherwise.
        if shared_budget is None:
            shared_budget = sleep is None
        self.budget = RateBudget(self.api_name, self.token, self.base_url, reserve=self.budget_reserve,
                                 refill_per_second=self.budget_refill_per_second, capacity=self.budget_capacity) \
            if shared_budget else None

    # -- settings, checked before any request ----------------------------------------------
    def where(self, option, env):
        return "the %s option or the %s environment variable" % (option, env) if env else "the %s option" % option

    def token_missing(self):
        """The one message for a missing token of this API."""
        return "No %s API token: set %s." % (self.api_name, self.where(self.token_option, self.token_env))

    def clean_token(self, token):
        """The token without surrounding whitespace (the newline ``$(cat file)`` or a file lookup leaves);
        refused when empty or when what is left cannot be sent in an HTTP header. Never quoted in a message."""
        token = (token or "").strip() if isinstance(token, str) else token
        if not token:
            raise self.error_class(self.token_missing())
        where = self.where(self.token_option, self.token_env)
        if not token.isascii():
            raise self.error_class(
                "The %s API token (%s) holds a non-ASCII character, which no API token has: copy it again as plain "
                "text, without typographic quotes or other characters around it." % (self.api_name, where))
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in token):
            raise self.error_class(
                "The %s API token (%s) holds a space, a line break or a control character inside it: set the token "
                "alone, on one line." % (self.api_name, where))
        return token

    def clean_url(self, url):
        """The base URL without surrounding whitespace and trailing slashes; refused unless http(s) with a host."""
        url = (url or "").strip()
        parts = urlsplit(url) if "://" in url else None
        usable = parts is not None and parts.scheme.lower() in ("http", "https") and parts.hostname
        if not usable or any(c.isspace() for c in url):
            raise self.error_class("The %s API URL %r (%s) is not an http:// or https:// URL with a host name: write "
                                   "it in full, such as %s."
                                   % (self.api_name, redact_url(url), self.where(self.url_option, self.url_env),
                                      self.default_base_url or "https://api.example.com"))
        return url.rstrip("/")

    def tls_verify(self, validate_certs, ca_path):
        """What requests verifies the server's certificate with: ``ca_path``, or nothing with
        ``validate_certs=false``; otherwise the bundle named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE when one is
        set, else certifi's. A bundle that does not exist is refused here rather than failing every request."""
        if validate_certs is False:
            return False
        source, bundle = "ca_path", ca_path
        if not bundle:
            source, bundle = next(((env, os.environ[env]) for env in CA_BUNDLE_ENVS if os.environ.get(env)),
                                  (None, None))
        if not bundle:
            return True
        if not os.path.exists(bundle):
            fix = "fix ca_path" if source == "ca_path" else "fix or unset %s, or set ca_path" % source
            raise self.error_class("The CA bundle %s (%s) does not exist: %s." % (bundle, source, fix))
        return bundle

    # -- hooks for the API-specific subclasses --------------------------------------------
    def default_headers(self):
        return {"User-Agent": self.user_agent}

    def wait_before_next(self, response):
        """Seconds to wait before the next request, judged from rate-limit headers (None: no wait)."""
        return None

    def budget_headers(self, response):
        """``(remaining, reset_seconds)`` from the response's rate-limit headers, for the shared budget; None when it
        has none. ``reset_seconds`` is None for an API that sends no reset."""
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

    def _wait(self, seconds, method, route, why, sleep=None):
        if seconds > self.max_rate_limit_wait:
            raise self.error_class(
                "%s: waiting %ds exceeds max_rate_limit_wait=%ds; re-run later or raise the limit"
                % (why, seconds, self.max_rate_limit_wait),
                status=429, error_id="rate_limit", method=method, route=route)
        if seconds > 0:
            if (self.slice_end is not None and time.time() + seconds > self.slice_end
                    and method in IDEMPOTENT_READS
                    and (self.slice_anywhere or not self.request_count(writes_only=True))):
                # The slice ends first: wait what is left of it and say so; the next slice waits the rest.
                left = max(0.0, self.slice_end - time.time())
                self.waited_seconds += left
                (sleep or self.sleep)(left)
                raise SliceOver("%s API: %s, %ds to wait before %s %s"
                                % (self.api_name, why, math.ceil(seconds - left), method, route))
            if seconds >= 1:
                note = "%s API: %s, waiting %ds before %s %s" % (self.api_name, why, math.ceil(seconds), method, route)
                self.waits.append(note)
                if self.on_wait:
                    self.on_wait(note)
            self.waited_seconds += seconds
            (sleep or self.sleep)(seconds)

    def _wait_for_budget(self, method, route):
        """Wait until the run-wide budget lets one more request go (every process of the run shares it)."""
        if not self.budget:
            return
        waited = 0.0
        for _attempt in range(100000):  # bounded by max_rate_limit_wait below; the count is a backstop
            seconds = self.budget.acquire()
            if seconds <= 0:
                return
            if waited + seconds > self.max_rate_limit_wait:
                # Longer than allowed: the API has the last word (the ledger may be stale), and its 429 fails the
                # request as before.
                return
            # The ledger runs on real time, whatever ``sleep`` this client was given.
            self._wait(seconds, method, route, "the rate-limit budget shared by this run is spent", sleep=time.sleep)
            waited += seconds

    def _record_budget(self, response):
        if not self.budget:
            return
        seen = self.budget_headers(response) if response is not None else None
        if seen is None:
            self.budget.release()
        else:
            self.budget.record(*seen)

    def unreachable(self, exc):
        """One sentence for a request that got no answer: the host, the cause, and what to change."""
        url_where = self.where(self.url_option, self.url_env)
        causes = _causes(exc)
        for cause in causes:
            if isinstance(cause, ssl.SSLCertVerificationError):
                why = cause.verify_message or cause.reason or "not trusted"
                return ("The TLS certificate of %s could not be verified (%s): set ca_path to the CA bundle that "
                        "signed it, or check %s." % (self.host, why, url_where))
        for cause in causes:
            if isinstance(cause, ssl.SSLError):
                return ("The TLS handshake with %s failed (%s): check that %s names an https server, or use http:// "
                        "for a plain HTTP one." % (self.host, cause.reason or cause.__class__.__name__, url_where))
            if isinstance(cause, socket.gaierror):
                return ("The host name %s could not be resolved (DNS lookup failed): check %s and the network."
                        % (self.host, url_where))
            if isinstance(cause, ConnectionRefusedError):
                return ("%s refused the connection (nothing listens there): check %s, or start the server."
                        % (self.host, url_where))
        if isinstance(exc, requests.exceptions.Timeout):
            return ("%s did not answer in time (timeout=%s seconds): check %s and the network, or raise timeout."
                    % (self.host, self.timeout, url_where))
        if any(isinstance(cause, ConnectionResetError) for cause in causes):
            return ("%s closed the connection without an answer: check that the scheme (http:// or https://) and the "
                    "port of %s match the server." % (self.host, url_where))
        reason = next((c for c in reversed(causes) if isinstance(c, OSError) and c.strerror), None)
        return ("Could not reach %s (%s): check %s and the network."
                % (self.host, reason.strerror if reason else exc.__class__.__name__, url_where))

    def _send(self, method, url, query, json, headers):
        try:
            return self.session.request(method, url, params=query, json=json, headers=headers, timeout=self.timeout,
                                        verify=self.verify)
        except requests.exceptions.RequestException:
            self._record_budget(None)  # no answer: another process may probe the budget
            raise

    def request(self, method, route, params=None, query=None, json=None, headers=None, expected=None):
        """Send one request, retrying where it is safe. Returns an ApiResponse for 2xx (and ``expected``)."""
        method = method.upper()
        url = self.url_for(route, params or {})
        attempt = 0
        while True:
            if self._resume_at:
                self._wait(self._resume_at - self.clock(), method, route, "rate-limit budget exhausted")
                self._resume_at = 0.0
            self._wait_for_budget(method, route)
            self.count(method, route)
            try:
                raw = self._send(method, url, query, json, headers)
            except requests.exceptions.SSLError as exc:
                # A certificate that fails now fails on every retry.
                raise self.error_class(self.unreachable(exc), error_id="unreachable", method=method, route=route)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                # A POST may have reached the server before the connection broke: never repeat it blindly.
                if method in IDEMPOTENT_METHODS and attempt < self.max_retries:
                    self.sleep(self.backoff(attempt))
                    attempt += 1
                    continue
                raise self.error_class(self.unreachable(exc), error_id="unreachable", method=method, route=route)
            except requests.exceptions.RequestException as exc:
                raise self.error_class(self.unreachable(exc), error_id="unreachable", method=method, route=route)
            response = ApiResponse(raw.status_code, raw.headers, self._decode(raw))
            self._record_budget(response)
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


def connection_argument_spec(token_env, url_env, default_url, token_aliases=None, max_rate_limit_wait=900):
    """The connection options every module of one API takes (documented in that API's doc fragment)."""
    return dict(
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, [token_env]), aliases=token_aliases or []),
        api_url=dict(type="str", fallback=(env_fallback, [url_env]), default=default_url),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=5),
        max_rate_limit_wait=dict(type="int", default=max_rate_limit_wait),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
    )


def client_from_options(client_class, options, **kwargs):
    """A client of ``client_class`` from the connection options, falling back to the environment.

    ``options`` is a module's ``params`` (a dict) or an inventory plugin's ``get_option``: the one
    path from options to a client for modules and plugins alike. Raises the client's error class
    (with the API's one "token missing" message) when a setting is missing or unusable."""
    get = options if callable(options) else options.get

    def option(name, default=None):
        try:
            value = get(name)
        except KeyError:
            return default
        return default if value is None else value

    return client_class(
        token=option("api_token") or os.environ.get(client_class.token_env or ""),
        base_url=option("api_url") or os.environ.get(client_class.url_env or "") or client_class.default_base_url,
        timeout=option("timeout", 30),
        max_retries=option("max_retries", 5),
        max_rate_limit_wait=option("max_rate_limit_wait", client_class.default_max_rate_limit_wait),
        validate_certs=option("validate_certs", True) is not False,
        ca_path=option("ca_path"),
        **kwargs
    )
