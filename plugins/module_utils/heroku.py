# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small, read-only Heroku Platform API client: the versioned Accept header, Range pagination
(``id ..; max=1000`` then ``Next-Range`` on 206), ``RateLimit-Remaining`` and 429 ``rate_limit``
back-off, ``{"id", "message"}`` errors. GET responses are cached for the life of the client."""

from __future__ import annotations

import copy

from ansible_collections.herokumigrate.northflank.plugins.module_utils.api import (
    ApiClient, ApiError, client_from_options, connection_argument_spec)

TOKEN_ENV = "HEROKU_API_KEY"
URL_ENV = "HEROKU_API_URL"
DEFAULT_BASE_URL = "https://api.heroku.com"
ACCEPT = "application/vnd.heroku+json; version=3"
FIRST_RANGE = "id ..; max=1000"
# Heroku refills its token bucket at about 4500/hour (1.25 per second); below this many tokens
# left we slow down so that our own requests never cause a 429.
LOW_WATER = 20
REFILL_PER_SECOND = 4500 / 3600.0


class HerokuError(ApiError):
    """An error answered by the Heroku API (``id`` such as ``not_found``, ``rate_limit``, and ``message``)."""

    def unit_message(self, kind, name):
        """The message of a unit that could not be read: what failed, and what to do about it."""
        message = self.in_context("Could not read Heroku %s %s" % (kind, name))
        if self.status == 403:
            message += ("; the Heroku API key's user lacks a permission on %s %s (reading config vars needs the deploy "
                        "permission on each app): grant it, or use the key of the owner or a team admin" % (kind, name))
        elif self.status == 404 and self.route in ("/apps/{app}", "/pipelines/{pipeline}"):
            message += ("; %s %s no longer exists on Heroku (deleted or renamed since the inventory was read): "
                        "re-read the inventory, or leave the unit out with --limit '!%s'" % (kind, name, name))
        return message


class HerokuClient(ApiClient):
    error_class = HerokuError
    default_base_url = DEFAULT_BASE_URL
    api_name = "Heroku"
    token_env = TOKEN_ENV
    url_env = URL_ENV
    # The shared budget (rate_budget.py) of a bucket that refills continuously and sends no reset.
    budget_reserve = LOW_WATER
    budget_refill_per_second = REFILL_PER_SECOND
    budget_capacity = 4500

    def __init__(self, *args, **kwargs):
        super(HerokuClient, self).__init__(*args, **kwargs)
        self._cache = {}

    def default_headers(self):
        headers = super(HerokuClient, self).default_headers()
        headers["Accept"] = ACCEPT
        return headers

    def budget_headers(self, response):
        try:
            return int(response.headers.get("RateLimit-Remaining")), None
        except (TypeError, ValueError):
            return None

    def wait_before_next(self, response):
        try:
            remaining = int(response.headers.get("RateLimit-Remaining"))
        except (TypeError, ValueError):
            return None
        if remaining < LOW_WATER:
            # Wait for the bucket to refill back to the low-water mark.
            return (LOW_WATER - remaining) / REFILL_PER_SECOND
        return None

    def rate_limit_wait(self, response, attempt):
        # Heroku sends no reset header: back off until a few tokens have refilled.
        return min(self.backoff_cap * 2, 5.0 * (2 ** attempt))

    def error_from(self, response, method, route):
        body = response.body if isinstance(response.body, dict) else {}
        message = body.get("message")
        if not message and isinstance(body.get("errors"), list) and body["errors"]:
            # JSON:API errors (the Scheduler's host): {"errors": [{"status", "title", "detail"}]}
            first = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
            message = first.get("detail") or first.get("title")
        message = message or "HTTP %s" % response.status
        return HerokuError(message, status=response.status, error_id=body.get("id"),
                           details=dict((k, v) for k, v in body.items() if k not in ("id", "message")) or None,
                           method=method, route=route)

    def request(self, method, route, params=None, query=None, json=None, headers=None, expected=None):
        if method.upper() not in ("GET", "HEAD"):
            # The collection reads Heroku; writes happen only behind explicit opt-in options,
            # which go through write() below.
            raise HerokuError("Refusing %s %s: the Heroku client is read-only" % (method, route), method=method,
                              route=route)
        return super(HerokuClient, self).request(method, route, params, query, json, headers, expected)

    def write(self, method, route, body=None, **params):
        """A write, for the explicit opt-in features only (e.g. maintenance mode during a cut-over)."""
        return ApiClient.request(self, method, route, params=params, json=body).body

    def get(self, route, headers=None, **params):
        """One object (cached within this client)."""
        key = (route, tuple(sorted(params.items())), tuple(sorted((headers or {}).items())))
        if key not in self._cache:
            self._cache[key] = self.request("GET", route, params=params, headers=headers).body
        return copy.deepcopy(self._cache[key])

    def get_or_none(self, route, **params):
        try:
            return self.get(route, **params)
        except HerokuError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, route, headers=None, **params):
        """Every item of a list endpoint, following ``Next-Range`` while the API answers 206."""
        key = ("list", route, tuple(sorted(params.items())), tuple(sorted((headers or {}).items())))
        if key in self._cache:
            return copy.deepcopy(self._cache[key])
        items = []
        next_range, sent = FIRST_RANGE, set()
        while next_range:
            # Next-Range is opaque: sent back verbatim. A server answering the same one twice would
            # make this loop forever (seen in Heroku clients; docs/heroku-discovery.md): that is an error.
            if next_range in sent:
                raise HerokuError("The API answered the same Next-Range twice (%s): stopped paging" % next_range,
                                  status=206, method="GET", route=route)
            sent.add(next_range)
            hdrs = dict(headers or {}, Range=next_range)
            response = self.request("GET", route, params=params, headers=hdrs)
            body = [] if response.body is None else response.body
            if not isinstance(body, list):
                raise HerokuError("Expected a JSON array from a list request, got %s" % type(body).__name__,
                                  status=response.status, method="GET", route=route)
            items.extend(body)
            next_range = response.headers.get("Next-Range") if response.status == 206 else None
        self._cache[key] = items
        return copy.deepcopy(items)


def argument_spec():
    """The connection options of every Heroku module (see the doc fragment of the same name)."""
    return connection_argument_spec(TOKEN_ENV, URL_ENV, DEFAULT_BASE_URL, token_aliases=["heroku_api_key"])


def client_from_params(options, **kwargs):
    """The one way from options to a Heroku client, for modules (``module.params``) and plugins
    (``get_option``). Raises HerokuError, with the one "token missing" message of this API:
    ``No Heroku API token: set the api_token option or the HEROKU_API_KEY environment variable.``"""
    return client_from_options(HerokuClient, options, **kwargs)
