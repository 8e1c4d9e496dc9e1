"""The pure parts of the resource base class: ID derivation, name rules, comparison, masking."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank_resource


def test_derive_id_lowercases_and_hyphenates_spaces():
    assert northflank_resource.derive_id("Example Service") == "example-service"
    assert northflank_resource.derive_id("acme-web") == "acme-web"


def test_check_name_accepts_heroku_names_and_rejects_what_northflank_rejects():
    assert northflank_resource.check_name("acme-web", "project") is None
    assert northflank_resource.check_name("ab", "project")  # too short
    assert northflank_resource.check_name("a" * 40, "project")  # over 39
    assert northflank_resource.check_name("web_1", "project")  # underscore
    assert northflank_resource.check_name("1web", "project")  # must start with a letter
    assert northflank_resource.check_name("1-env", "secret group", pattern=northflank_resource.GROUP_NAME,
                                          max_len=100) is None


def test_differences_compare_only_what_the_user_set():
    current = {"name": "a", "description": "x", "lifecycleStatus": "created",
               "deployment": {"region": "eu", "extra": 1}}
    assert northflank_resource.differences({"name": "a", "deployment": {"region": "eu"}}, current) == []
    assert northflank_resource.differences({"description": "y"}, current) == ["description"]
    assert northflank_resource.differences({"deployment": {"region": "us"}}, current) == ["deployment.region"]
    assert northflank_resource.differences({"missing": {"a": 1}}, current) == ["missing"]


def test_differences_treat_exact_paths_as_whole_maps():
    current = {"secrets": {"variables": {"A": "1", "B": "2"}}}
    assert northflank_resource.differences({"secrets": {"variables": {"A": "1"}}}, current) == []
    assert northflank_resource.differences({"secrets": {"variables": {"A": "1"}}}, current,
                                           exact=("secrets.variables",)) == ["secrets.variables"]
    assert northflank_resource.differences({"secrets": {"variables": {"A": "1", "B": "2"}}}, current,
                                           exact=("secrets.variables",)) == []


def test_differences_lists_are_ordered_and_elementwise_subsets():
    current = {"ports": [{"name": "web", "internalPort": 8080, "dns": "x"}], "packs": ["a", "b"]}
    assert northflank_resource.differences({"ports": [{"name": "web", "internalPort": 8080}]}, current) == []
    assert northflank_resource.differences({"ports": [{"name": "web", "internalPort": 5000}]}, current) == ["ports"]
    assert northflank_resource.differences({"packs": ["b", "a"]}, current) == ["packs"]
    assert northflank_resource.differences({"packs": ["a"]}, current) == ["packs"]


def test_prune_drops_unset_options_recursively():
    pruned = northflank_resource.prune({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}]})
    assert pruned == {"b": {"d": 1}, "e": [{}]}


def test_mask_hides_every_secret_value():
    data = {"name": "env", "secrets": {"variables": {"A": "secret-a", "B": "secret-b"}}, "token": "t"}
    masked = northflank_resource.mask(data, ("secrets.variables", "token"))
    assert masked["secrets"]["variables"] == {"A": northflank_resource.MASK, "B": northflank_resource.MASK}
    assert masked["token"] == northflank_resource.MASK
    assert data["secrets"]["variables"]["A"] == "secret-a"  # the original is untouched


def test_mask_changed_secrets_names_changed_keys_only():
    before = {"secrets": {"variables": {"A": "old", "B": "same"}}}
    after = {"secrets": {"variables": {"A": "new", "B": "same", "C": "added"}}}
    b, a = northflank_resource.mask_changed_secrets(before, after, ("secrets.variables",))
    assert b == {"secrets": {"variables": {"A": northflank_resource.MASK, "B": northflank_resource.MASK}}}
    assert a == {"secrets": {"variables": {"A": northflank_resource.MASK + " (changed)", "B": northflank_resource.MASK,
                                           "C": northflank_resource.MASK}}}
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


class _Fake(northflank_resource.NorthflankResource):
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
