# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirroring Heroku Git to another remote: the pure parts (which refs to push, and how they compare
with the target), kept free of I/O so they are unit-tested without git. heroku_git_mirror runs git.

Credentials never go into a URL or a command line: git asks ``GIT_ASKPASS``, a script that holds
no secret and answers from environment variables, and only for the one host it was given."""

from __future__ import annotations

import re

from urllib.parse import urlsplit

HEADS = "refs/heads/"
TAGS = "refs/tags/"
MASK = "********"

# Answers git's "Username for 'https://host': " and "Password for 'https://user@host': " prompts, for
# the expected host only (a redirect to another host gets no answer, so git fails there). Holds no
# secret: the answers come from the environment of the one git command that needs them.
ASKPASS_SCRIPT = """#!/bin/sh
case "$1" in
  *"//$HEROKUMIGRATE_GIT_HOST'"*|*"@$HEROKUMIGRATE_GIT_HOST'"*) ;;
  *) exit 1 ;;
esac
case "$1" in
  Username*) printf '%s\\n' "$HEROKUMIGRATE_GIT_USERNAME" ;;
  *) printf '%s\\n' "$HEROKUMIGRATE_GIT_PASSWORD" ;;
esac
"""

_URL_PASSWORD = re.compile(r"(://[^/@:\s]*):[^@/\s]*@")


class MirrorError(ValueError):
    """A request that cannot be mirrored; the message says what to change."""


def is_http(url):
    return url.lower().startswith(("http://", "https://"))


def is_ssh(url):
    """``ssh://...`` or scp-like ``[user@]host:path`` (what git reaches through ssh)."""
    if "://" in url:
        return url.lower().split("://", 1)[0] in ("ssh", "git+ssh", "ssh+git")
    return bool(re.match(r"^[^/:]{2,}:", url))


def http_host(url):
    """``host[:port]`` of an http(s) URL, without user information (what git's prompts name)."""
    return urlsplit(url).netloc.rpartition("@")[2]


def redact_url(url):
    """The URL with any password in its user information replaced by ``********``."""
    return _URL_PASSWORD.sub(r"\1:" + MASK + "@", url or "")


def scrub(text, secrets):
    """``text`` with every secret, and any password inside a URL, masked."""
    text = redact_url(text or "")
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def check_source_url(url):
    """Heroku Git is served over HTTPS (plain HTTP is accepted for local test servers)."""
    if not is_http(url):
        raise MirrorError(
            "git_url must be an https:// URL of Heroku Git (such as https://git.heroku.com/APP.git), got %s"
            % redact_url(url)
        )
    if "@" in urlsplit(url).netloc:
        raise MirrorError("git_url must not hold credentials: the API key is passed to git through its environment")


def check_target_url(url):
    """A URL git pushes to: http(s), ssh, git, file, ``user@host:path`` or a local path; never a
    remote helper (``transport::address`` runs programs) nor something git would read as an option."""
    if not url or url.startswith("-"):
        raise MirrorError("target_url must be a Git remote URL, got %r" % redact_url(url))
    if "::" in url.split("/", 1)[0]:
        raise MirrorError(
            "target_url %s names a Git remote helper; give an https://, ssh:// or file:// URL" % redact_url(url)
        )
    scheme = url.split("://", 1)[0].lower() if "://" in url else None
    if scheme is not None and scheme not in ("https", "http", "ssh", "git", "file"):
        raise MirrorError(
            "target_url %s: unsupported scheme %s (https, http, ssh, git or file)" % (redact_url(url), scheme)
        )


def parse_branches(specs):
    """``["main", "master:main"]`` -> ``[("main", "main"), ("master", "main")]`` (names, no ``refs/heads/``)."""
    pairs = []
    for spec in specs or []:
        source, sep, target = str(spec).partition(":")
        source, target = _branch(source), _branch(target if sep else source)
        if not source or not target:
            raise MirrorError("branches: %r is not SOURCE or SOURCE:TARGET" % spec)
        pairs.append((source, target))
    return pairs


def _branch(name):
    name = name.strip()
    return name[len(HEADS):] if name.startswith(HEADS) else name


def parse_refs(text):
    """``{ref: object}`` for the branches and tags of ``git ls-remote`` or ``git for-each-ref
    --format='%(objectname) %(refname)'`` output. Peeled tags (``^{}``), HEAD and other
    namespaces (``refs/pull/...``) are left out: only branches and tags are mirrored."""
    refs = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        sha, ref = parts
        if ref.endswith("^{}") or not ref.startswith((HEADS, TAGS)):
            continue
        refs[ref] = sha
    return refs


def wanted_refs(source_refs, branches=None, tags=True):
    """What the target should hold: ``([{"source", "target", "object"}], notes)``.

    Without ``branches`` every branch keeps its name. With them, only the mapped branches are
    pushed; when several sources map to one target (``main:main``, ``master:main``), the first that
    exists wins and the others are named in ``notes``. No mapped branch at all is an error."""
    wanted, notes = [], []
    pairs = parse_branches(branches)
    if pairs:
        by_target = {}
        for source, target in pairs:
            by_target.setdefault(target, []).append(source)
        for target, sources in by_target.items():
            found = [s for s in sources if HEADS + s in source_refs]
            if not found:
                notes.append(
                    "no branch %s in the Heroku repository for target branch %s" % (" or ".join(sources), target)
                )
                continue
            wanted.append(dict(source=HEADS + found[0], target=HEADS + target, object=source_refs[HEADS + found[0]]))
            for other in found[1:]:
                notes.append("branch %s is not pushed: %s goes to %s" % (other, found[0], target))
        if not wanted:
            have = sorted(r[len(HEADS):] for r in source_refs if r.startswith(HEADS))
            raise MirrorError(
                "None of the branches %s exist in the Heroku repository (it has: %s); set branches"
                % (", ".join(s for s, _t in pairs), ", ".join(have) or "no branch")
            )
    else:
        wanted.extend(
            dict(source=ref, target=ref, object=sha)
            for ref, sha in sorted(source_refs.items())
            if ref.startswith(HEADS)
        )
    if tags:
        wanted.extend(
            dict(source=ref, target=ref, object=sha) for ref, sha in sorted(source_refs.items()) if ref.startswith(TAGS)
        )
    return wanted, notes


def compare(wanted, target_refs):
    """Each wanted ref with ``before`` (the target's object or None) and ``action``: ``unchanged``,
    ``create`` or ``update`` (whether an update is a fast-forward needs the objects: see
    heroku_git_mirror)."""
    out = []
    for ref in wanted:
        before = target_refs.get(ref["target"])
        action = "unchanged" if before == ref["object"] else ("create" if before is None else "update")
        out.append(dict(ref, before=before, action=action))
    return out
