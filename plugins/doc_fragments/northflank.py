# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options of every module that talks to the Northflank API."""

    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - A Northflank API token (a team or organisation token generated from an RBAC role).
      - If not set, the environment variable E(NORTHFLANK_API_TOKEN) is used.
      - Spaces and line breaks around the token (as a file read with C(cat) or a file lookup leaves) are removed.
        A token with a space, a line break or a non-ASCII character inside it is refused.
    type: str
  api_url:
    description:
      - Base URL of the Northflank API.
      - If not set, the environment variable E(NORTHFLANK_API_BASE_URL) is used, then V(https://api.northflank.com).
      - A full URL with its scheme, V(https://) or V(http://).
    type: str
    default: https://api.northflank.com
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: int
    default: 30
  max_retries:
    description:
      - How often a request is retried after a rate limit (429), a server error (5xx), a time-out or a reset connection.
      - Server errors and network failures are retried only for GET, PUT, PATCH and DELETE; a POST is never repeated
        blindly.
    type: int
    default: 5
  max_rate_limit_wait:
    description:
      - Longest wait, in seconds, for the hourly rate-limit window to reset before the module gives up.
      - Northflank allows 1000 requests per hour per token by default.
      - Every process of a run (every fork and host) shares one budget per token and URL, recorded in a small ledger
        under C(~/.ansible/tmp/herokumigrate-budget) (or E(HEROKUMIGRATE_BUDGET_DIR)); once the hour's budget is spent,
        every process waits for the window to reset instead of meeting a 429.
      - The default, a whole window, lets a fleet larger than one hour's budget complete; lower it to fail fast.
    type: int
    default: 3600
  validate_certs:
    description:
      - Verify the TLS certificate of the API. V(false) turns verification off for this API; nothing else does.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM file) to verify the API's certificate with.
      - When not set, the bundle named by E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) is used if one is set, else the
        bundle of the Python C(certifi) package. O(ca_path) and O(validate_certs=false) take precedence over both
        variables.
    type: path
notes:
  - The client retries with capped exponential back-off and jitter, reads C(x-ratelimit-*) headers and waits for the
    window to reset rather than failing.
"""
