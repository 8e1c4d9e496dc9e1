# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Northflank API client: bearer token, ``{"data": ...}`` envelopes, cursor pagination,
``{"error": {...}}`` errors, and the ``x-ratelimit-*`` budget (1000 requests/hour by default)."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils.api import (
    ApiClient, ApiError, client_from_options, connection_argument_spec)

TOKEN_ENV = "NORTHFLANK_API_TOKEN"
URL_ENV = "NORTHFLANK_API_BASE_URL"
DEFAULT_BASE_URL = "https://api.northflank.com"
PER_PAGE = 100
# A window of Northflank's (an hour) must be waitable by default, so that a fleet larger than one hour's budget
# completes instead of failing its units once the budget is spent (docs/user-guide.md, "Fleets").
MAX_RATE_LIMIT_WAIT = 3600


class NorthflankError(ApiError):
    """An error answered by the Northflank API (status, message, id, details)."""


class NorthflankClient(ApiClient):
    error_class = NorthflankError
    default_base_url = DEFAULT_BASE_URL
    api_name = "Northflank"
    token_env = TOKEN_ENV
    url_env = URL_ENV
    budget_reserve = 5
    default_max_rate_limit_wait = MAX_RATE_LIMIT_WAIT

    def default_headers(self):
        headers = super(NorthflankClient, self).default_headers()
        headers["Accept"] = "application/json"
        return headers

    # -- rate limits: x-ratelimit-limit / -remaining / -reset (seconds until the window resets)
    @staticmethod
    def _reset_seconds(response):
        try:
            return max(0.0, float(response.headers.get("x-ratelimit-reset")))
        except (TypeError, ValueError):
            return None

    def budget_headers(self, response):
        try:
            remaining = int(str(response.headers.get("x-ratelimit-remaining")).strip())
        except (TypeError, ValueError):
            return None
        try:
            limit = int(str(response.headers.get("x-ratelimit-limit")).strip())
        except (TypeError, ValueError):
            limit = None
        return remaining, self._reset_seconds(response), limit

    def wait_before_next(self, response):
        remaining = response.headers.get("x-ratelimit-remaining")
        if remaining is not None and str(remaining).strip() == "0":
            return self._reset_seconds(response)
        return None

    def rate_limit_wait(self, response, attempt):
        reset = self._reset_seconds(response)
        if reset is None:
            retry_after = response.headers.get("retry-after")
            reset = float(retry_after) if retry_after and retry_after.isdigit() else None
        if reset is None:
            return super(NorthflankClient, self).rate_limit_wait(response, attempt)
        return reset + 1

    def error_from(self, response, method, route):
        body = response.body if isinstance(response.body, dict) else {}
        err = body.get("error") if isinstance(body.get("error"), dict) else {}
        message = err.get("message") or (response.body if isinstance(response.body, str) and response.body
                                         else "HTTP %s" % response.status)
        return NorthflankError(message, status=response.status, error_id=err.get("id"), details=err.get("details"),
                               method=method, route=route)

    # -- verbs --------------------------------------------------------------------------
    def call(self, method, route, body=None, query=None, **params):
        """One request; returns the unwrapped ``data``."""
        response = self.request(method, route, params=params, query=query, json=body)
        if isinstance(response.body, dict) and "data" in response.body:
            return response.body["data"]
        return response.body

    def get(self, route, query=None, **params):
        return self.call("GET", route, query=query, **params)

    def get_or_none(self, route, **params):
        """GET that turns 404 into None: how modules find out whether a resource exists."""
        try:
            return self.get(route, **params)
        except NorthflankError as exc:
            if exc.status == 404:
                return None
            raise

    def post(self, route, body=None, **params):
        return self.call("POST", route, body=body, **params)

    def put(self, route, body=None, **params):
        return self.call("PUT", route, body=body, **params)

    def patch(self, route, body=None, **params):
        return self.call("PATCH", route, body=body, **params)

    def delete(self, route, query=None, **params):
        return self.call("DELETE", route, query=query, **params)

    def list(self, route, key, query=None, **params):
        """All items of a paginated list endpoint, following ``pagination.cursor`` 100 at a time.

        ``key`` is the wrapper in ``data`` (``projects``, ``services``...); None for bare-array lists."""
        query = dict(query or {}, per_page=PER_PAGE)
        items = []
        while True:
            response = self.request("GET", route, params=params, query=query)
            body = response.body or {}
            data = body.get("data")
            page = data if key is None else (data or {}).get(key, [])
            items.extend(page or [])
            pagination = body.get("pagination") or {}
            cursor = pagination.get("cursor")
            if not pagination.get("hasNextPage") or not cursor:
                return items
            query["cursor"] = cursor


def argument_spec():
    """The connection options of every Northflank module (see the doc fragment of the same name)."""
    return connection_argument_spec(TOKEN_ENV, URL_ENV, DEFAULT_BASE_URL, max_rate_limit_wait=MAX_RATE_LIMIT_WAIT)


def client_from_params(options, **kwargs):
    """The one way from options to a Northflank client, for modules (``module.params``) and plugins
    (``get_option``). Raises NorthflankError, with the one "token missing" message of this API:
    ``No Northflank API token: set the api_token option or the NORTHFLANK_API_TOKEN environment variable.``"""
    return client_from_options(NorthflankClient, options, **kwargs)
