"""The pure parts of the resource base class: ID derivation, name rules, comparison, masking."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank_resource as nr


def test_derive_id_lowercases_and_hyphenates_spaces():
    assert nr.derive_id("Example Service") == "example-service"
    assert nr.derive_id("acme-web") == "acme-web"


def test_check_name_accepts_heroku_names_and_rejects_what_northflank_rejects():
    assert nr.check_name("acme-web", "project") is None
    assert nr.check_name("ab", "project")  # too short
    assert nr.check_name("a" * 40, "project")  # over 39
    assert nr.check_name("web_1", "project")  # underscore
    assert nr.check_name("1web", "project")  # must start with a letter
    assert nr.check_name("1-env", "secret group", pattern=nr.GROUP_NAME, max_len=100) is None


def test_differences_compare_only_what_the_user_set():
    current = {"name": "a", "description": "x", "lifecycleStatus": "created", "deployment": {"region": "eu", "extra": 1}}
    assert nr.differences({"name": "a", "deployment": {"region": "eu"}}, current) == []
    assert nr.differences({"description": "y"}, current) == ["description"]
    assert nr.differences({"deployment": {"region": "us"}}, current) == ["deployment.region"]
    assert nr.differences({"missing": {"a": 1}}, current) == ["missing"]


def test_differences_treat_exact_paths_as_whole_maps():
    current = {"secrets": {"variables": {"A": "1", "B": "2"}}}
    assert nr.differences({"secrets": {"variables": {"A": "1"}}}, current) == []
    assert nr.differences({"secrets": {"variables": {"A": "1"}}}, current, exact=("secrets.variables",)) == ["secrets.variables"]
    assert nr.differences({"secrets": {"variables": {"A": "1", "B": "2"}}}, current, exact=("secrets.variables",)) == []


def test_differences_lists_are_ordered_and_elementwise_subsets():
    current = {"ports": [{"name": "web", "internalPort": 8080, "dns": "x"}], "packs": ["a", "b"]}
    assert nr.differences({"ports": [{"name": "web", "internalPort": 8080}]}, current) == []
    assert nr.differences({"ports": [{"name": "web", "internalPort": 5000}]}, current) == ["ports"]
    assert nr.differences({"packs": ["b", "a"]}, current) == ["packs"]
    assert nr.differences({"packs": ["a"]}, current) == ["packs"]


def test_prune_drops_unset_options_recursively():
    assert nr.prune({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}]}) == {"b": {"d": 1}, "e": [{}]}


def test_mask_hides_every_secret_value():
    data = {"name": "env", "secrets": {"variables": {"A": "secret-a", "B": "secret-b"}}, "token": "t"}
    masked = nr.mask(data, ("secrets.variables", "token"))
    assert masked["secrets"]["variables"] == {"A": nr.MASK, "B": nr.MASK}
    assert masked["token"] == nr.MASK
    assert data["secrets"]["variables"]["A"] == "secret-a"  # the original is untouched


def test_mask_changed_secrets_names_changed_keys_only():
    before = {"secrets": {"variables": {"A": "old", "B": "same"}}}
    after = {"secrets": {"variables": {"A": "new", "B": "same", "C": "added"}}}
    b, a = nr.mask_changed_secrets(before, after, ("secrets.variables",))
    assert b == {"secrets": {"variables": {"A": nr.MASK, "B": nr.MASK}}}
    assert a == {"secrets": {"variables": {"A": nr.MASK + " (changed)", "B": nr.MASK, "C": nr.MASK}}}
    assert "old" not in repr((a, b)) and "new" not in repr((a, b))


class _Exit(Exception):
    pass


class _Module(object):
    check_mode = False

    def __init__(self, params):
        self.params = params

    def fail_json(self, **kwargs):
        raise _Exit(kwargs)


class _Client(object):
    counts = {}


class _Fake(nr.NorthflankResource):
    """A resource whose API is a dict, to drive the cycle without a server."""
    kind = "thing"
    result_key = "thing"

    def __init__(self, current, params=None, check=False):
        self.module = _Module(dict(state="present", **(params or {})))
        self.module.check_mode = check
        self.params = self.module.params
        self.client = _Client()
        self.current = current
        self.writes = []
        self.waited = []

    def read(self):
        return self.current

    def desired(self):
        return dict(name="a", size=self.params.get("size"))

    def update(self, body, changes, current):
        self.writes.append(changes)
        return dict(current, **body)

    def wait(self, resource):
        self.waited.append(resource)
        return dict(resource, status="running")

    def forbidden_change(self, body, view, changes):
        if "size" in changes and body["size"] < view["size"]:
            return "size cannot decrease"
        return None


def test_unchanged_resource_is_still_waited_for_outside_check_mode():
    fake = _Fake(dict(name="a", size=2, status="allocating"), dict(size=2))
    result = fake._run()
    assert result["changed"] is False and result["thing"]["status"] == "running"
    assert fake.waited and not fake.writes
    fake = _Fake(dict(name="a", size=2, status="allocating"), dict(size=2), check=True)
    assert fake._run()["thing"]["status"] == "allocating" and not fake.waited


def test_forbidden_change_fails_before_any_write_in_check_mode_too():
    for check in (False, True):
        fake = _Fake(dict(name="a", size=4), dict(size=2), check=check)
        try:
            fake._run()
            raise AssertionError("no failure")
        except _Exit as exc:
            assert exc.args[0]["msg"] == "size cannot decrease"
        assert not fake.writes
    fake = _Fake(dict(name="a", size=4), dict(size=8))
    assert fake._run()["changed"] and fake.writes == [["size"]]


def test_forbidden_change_also_guards_creation():
    class Needy(_Fake):
        def forbidden_change(self, body, view, changes):
            return "set size to create it" if view is None and body.get("size") is None else None

        def create(self, body):
            self.writes.append(body)
            return body

    for check in (False, True):
        fake = Needy(None, check=check)
        try:
            fake._run()
            raise AssertionError("no failure")
        except _Exit as exc:
            assert exc.args[0]["msg"] == "set size to create it"
        assert not fake.writes
    assert Needy(None, dict(size=1))._run()["changed"]
