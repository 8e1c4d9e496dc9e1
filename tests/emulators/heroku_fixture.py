"""Heroku fixture accounts: read a YAML fixture and build the emulator's state, every object in the
shape the Platform API returns (the format is documented in docs/emulators.md, "Heroku emulator").

Everything the fixture does not give is derived deterministically from names (uuid5 ids, hashes,
timestamps), so the same fixture always yields the same account, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from typing import Any, Callable, NamedTuple, Optional

import yaml

NAMESPACE = uuid.UUID("5b0c4a52-8f0e-4c43-9a7e-3c1d2b6f9e10")
EPOCH = dt.datetime(2019, 4, 2, 9, 12, 44, tzinfo=dt.timezone.utc)
# Apps created from this date get a unique default domain (<name>-<12 hex>.herokuapp.com), as on Heroku.
UNIQUE_DOMAINS_SINCE = "2023-05-01"
ADJECTIVES = (
    "rigid",
    "curly",
    "shallow",
    "octagonal",
    "cylindrical",
    "spherical",
    "angular",
    "concentric",
    "solid",
    "vertical",
)
NOUNS = ("fjord", "sea", "meadow", "river", "harbor", "canyon", "summit", "grove", "island", "tundra")


class FixtureError(ValueError):
    """The fixture is inconsistent (unknown plan, missing app, non-string config value...)."""


# -- deterministic values ------------------------------------------------------------------
def uid(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def digest(*parts: Any, length: int = 64) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:length]


def number(*parts: Any, low: int, high: int) -> int:
    """A stable integer in [low, high)."""
    return low + int(digest(*parts, length=12), 16) % (high - low)


def pick(words: tuple, *parts: Any) -> str:
    return words[number(*parts, low=0, high=len(words))]


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# -- reading: $repeat directives ---------------------------------------------------------
REPEAT_TOKEN = re.compile(r"\{i(?::([^}]*))?\}")


def _substitute(node: Any, i: int) -> Any:
    if isinstance(node, str):
        return REPEAT_TOKEN.sub(lambda m: format(i, m.group(1) or ""), node)
    if isinstance(node, list):
        return [_substitute(v, i) for v in node]
    if isinstance(node, dict):
        return {_substitute(k, i): _substitute(v, i) for k, v in node.items()}
    return node


def expand(node: Any) -> Any:
    """Expand ``$repeat`` (in a list: ``- $repeat: {count, item}``; in a map: ``$repeat: {count, key, value}``;
    ``{i}`` / ``{i:04d}`` in strings is the 1-based index) and turn YAML timestamps into API strings."""
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, dict) and "$repeat" in item:
                spec = item["$repeat"]
                out.extend(expand(_substitute(spec["item"], i)) for i in range(1, spec["count"] + 1))
            else:
                out.append(expand(item))
        return out
    if isinstance(node, dict):
        out = {k: expand(v) for k, v in node.items() if k != "$repeat"}
        spec = node.get("$repeat")
        for i in range(1, (spec or {}).get("count", 0) + 1):
            out[_substitute(spec["key"], i)] = expand(_substitute(spec["value"], i))
        return out
    if isinstance(node, dt.datetime):
        return iso(parse_time(node))
    return node


def read(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return expand(yaml.safe_load(fh) or {})


# -- the platform catalogue ------------------------------------------------------------------
class Region(NamedTuple):
    description: str
    country: str
    locale: str
    aws: str
    private: bool  # a Private Spaces region


class DynoSize(NamedTuple):
    compute: int
    memory: float
    units: float
    dedicated: bool
    private_only: bool
    cents: Optional[int]  # per month; None: priced per space
    generation: str


class Service(NamedTuple):
    human: str
    attachment: str  # default attachment name: the config var prefix
    suffixes: tuple  # config vars one attachment sets: <attachment>_<suffix>
    plugin: Optional[str]
    sharing: bool
    value: str  # template of the credential; {hN} = N stable hex characters


REGIONS = {
    "us": Region("United States", "United States", "Virginia", "us-east-1", False),
    "eu": Region("Europe", "Ireland", "Dublin", "eu-west-1", False),
    "virginia": Region("Virginia, United States", "United States", "Virginia", "us-east-1", True),
    "oregon": Region("Oregon, United States", "United States", "Oregon", "us-west-2", True),
    "dublin": Region("Dublin, Ireland", "Ireland", "Dublin", "eu-west-1", True),
    "frankfurt": Region("Frankfurt, Germany", "Germany", "Frankfurt", "eu-central-1", True),
    "tokyo": Region("Tokyo, Japan", "Japan", "Tokyo", "ap-northeast-1", True),
}
STACKS = {
    "heroku-20": "deprecated",
    "heroku-22": "public",
    "heroku-24": "public",
    "container": "public",
    "cnb": "public",
}
DEFAULT_STACK = "heroku-24"
GENERATIONS = ("cedar", "fir")
DYNO_SIZES = {
    "eco": DynoSize(1, 0.5, 0.0, False, False, 0, "cedar"),
    "basic": DynoSize(1, 0.5, 0.28, False, False, 700, "cedar"),
    "standard-1X": DynoSize(1, 0.5, 1.0, False, False, 2500, "cedar"),
    "standard-2X": DynoSize(4, 1.0, 2.0, False, False, 5000, "cedar"),
    "performance-m": DynoSize(11, 2.5, 8.0, True, False, 25000, "cedar"),
    "performance-l": DynoSize(46, 14.0, 16.0, True, False, 50000, "cedar"),
    "private-s": DynoSize(4, 1.0, 2.0, True, True, None, "cedar"),
    "private-m": DynoSize(11, 2.5, 8.0, True, True, None, "cedar"),
    "dyno-1c-0.5gb": DynoSize(1, 0.5, 1.0, False, True, None, "fir"),
    "dyno-2c-4gb": DynoSize(2, 4.0, 4.0, False, True, None, "fir"),
}
DEFAULT_SIZE = {"cedar": "basic", "fir": "dyno-1c-0.5gb"}
SERVICES = {
    "heroku-postgresql": Service(
        "Heroku Postgres",
        "DATABASE",
        ("URL",),
        None,
        True,
        "postgres://u{h8}:p{h48}@c{h4}.{h6}.{aws}.rds.amazonaws.com:5432/d{h12}",
    ),
    "heroku-redis": Service(
        "Heroku Key-Value Store",
        "REDIS",
        ("URL",),
        None,
        True,
        "rediss://:p{h48}@ec2-{ip}.{aws}.compute.amazonaws.com:{port}",
    ),
    "scheduler": Service("Heroku Scheduler", "SCHEDULER", (), None, False, ""),
    "papertrail": Service("Papertrail", "PAPERTRAIL", ("API_TOKEN",), "heroku-papertrail", True, "{h20}"),
    "jawsdb": Service(
        "JawsDB MySQL",
        "JAWSDB",
        ("URL",),
        None,
        True,
        "mysql://{h16}:{h16}@{h8}.cbetxkdyhwsb.{aws}.rds.amazonaws.com:3306/{h16}",
    ),
    "sendgrid": Service("Twilio SendGrid", "SENDGRID", ("API_KEY",), None, True, "SG.{h22}.{h43}"),
}
# plan: (human name, cents per month)
PLANS = {
    "heroku-postgresql:essential-0": ("Essential 0", 500),
    "heroku-postgresql:essential-1": ("Essential 1", 900),
    "heroku-postgresql:standard-0": ("Standard 0", 5000),
    "heroku-postgresql:premium-0": ("Premium 0", 20000),
    "heroku-redis:mini": ("Mini", 300),
    "heroku-redis:premium-0": ("Premium 0", 1500),
    "scheduler:standard": ("Standard", 0),
    "papertrail:choklad": ("Choklad", 0),
    "papertrail:fixa": ("Fixa", 700),
    "jawsdb:kitefin": ("Kitefin Shared", 0),
    "sendgrid:starter": ("Starter", 0),
}
# labs feature: (display name, description, state); an app lists them all, enabled or not
FEATURES = {
    "preboot": ("Preboot", "Provide seamless web dyno deploys.", "production"),
    "runtime-dyno-metadata": ("Dyno metadata", "Provide dyno metadata as environment variables.", "beta"),
    "http-session-affinity": ("Session affinity", "Route a client's requests to the same dyno.", "production"),
    "log-runtime-metrics": ("Log runtime metrics", "Emit dyno load and memory usage in the logs.", "beta"),
    "spaces-dns-discovery": ("DNS service discovery", "Resolve other apps of the space by name.", "production"),
}
PERMISSIONS = [
    {"name": "view", "description": "Can view the app, its config and logs."},
    {"name": "deploy", "description": "Can deploy and manage config, add-ons and dynos."},
]
# What a slug records as buildpack_provided_description: the last buildpack decides.
BUILDPACK_DESCRIPTIONS = {
    "heroku/ruby": "Ruby/Rack",
    "heroku/nodejs": "Node.js",
    "heroku/python": "Python",
    "heroku/go": "Go",
    "heroku/java": "Java",
    "heroku/php": "PHP",
}
DEFAULT_CNB_BUILDPACKS = {"heroku/nodejs": "3.4.0"}


def service_of(plan: str) -> str:
    return plan.split(":", maxsplit=1)[0]


def parse_schedule(text: str) -> tuple:
    """``every 10 minutes`` / ``hourly at :30`` / ``daily at 02:30`` -> Heroku Scheduler's (every, at), UTC."""
    if text == "every 10 minutes":
        return 10, 0
    hourly = re.fullmatch(r"hourly at :([0-5]0)", text)
    if hourly:
        return 60, int(hourly.group(1))
    daily = re.fullmatch(r"daily at ([01]\d|2[0-3]):(00|30)", text)
    if daily:
        return 1440, int(daily.group(1)) * 60 + int(daily.group(2))
    raise FixtureError(
        f"unknown schedule {text!r}: use 'every 10 minutes', 'hourly at :MM' (MM = 00, 10 ... 50) "
        "or 'daily at HH:00|HH:30'"
    )


class AccountBuilder:
    """Builds the state dict from a read fixture. ``commit_of(app, rev)`` resolves a Git revision of the app's
    Heroku repository (None when the fixture gives the app no repository); ``repo_size(app)`` is its size in bytes."""

    def __init__(
        self, spec: dict, commit_of: Callable[[str, str], Optional[str]], repo_size: Callable[[str], Optional[int]]
    ):
        self.spec = spec
        self.commit_of = commit_of
        self.repo_size = repo_size
        self.state: dict = {}
        self.apps_by_name: dict = {}

    # -- small helpers ----------------------------------------------------------------------
    def ref(self, collection: str, name: str, fields: tuple = ("id", "name")) -> dict:
        """``{id, name}`` of a named item of a state collection."""
        for item in self.state[collection]:
            if item["name"] == name:
                return {f: item[f] for f in fields}
        raise FixtureError(f"unknown {collection[:-1].replace('_', ' ')} {name!r}")

    def app(self, name: str) -> dict:
        if name not in self.apps_by_name:
            raise FixtureError(f"unknown app {name!r}")
        return self.apps_by_name[name]

    @staticmethod
    def app_ref(app: dict) -> dict:
        return {"id": app["id"], "name": app["name"]}

    @staticmethod
    def stamped(created: str, **fields) -> dict:
        return {"created_at": created, "updated_at": created, **fields}

    # -- catalogue --------------------------------------------------------------------------
    def catalogue(self) -> None:
        epoch = iso(EPOCH)
        state = self.state
        state["regions"] = [
            self.stamped(
                epoch,
                id=uid("region", name),
                name=name,
                description=r.description,
                country=r.country,
                locale=r.locale,
                private_capable=r.private,
                provider={"name": "amazon-web-services", "region": r.aws},
            )
            for name, r in REGIONS.items()
        ]
        state["stacks"] = [
            self.stamped(epoch, id=uid("stack", name), name=name, state=status, default=name == DEFAULT_STACK)
            for name, status in STACKS.items()
        ]
        state["generations"] = [self.stamped(epoch, id=uid("generation", name), name=name) for name in GENERATIONS]
        state["dyno_sizes"] = [
            {
                "id": uid("dyno-size", name),
                "name": name,
                "architecture": "amd64",
                "compute": s.compute,
                "memory": s.memory,
                "precise_dyno_units": s.units,
                "dedicated": s.dedicated,
                "private_space_only": s.private_only,
                "cost": None if s.cents is None else {"cents": s.cents, "unit": "month"},
                "generation": self.ref("generations", s.generation),
            }
            for name, s in DYNO_SIZES.items()
        ]
        state["addon_services"] = [
            self.stamped(
                epoch,
                id=uid("addon-service", name),
                name=name,
                human_name=s.human,
                cli_plugin_name=s.plugin,
                state="ga",
                supports_multiple_installations=True,
                supports_sharing=s.sharing,
                supported_generations=[self.ref("generations", g) for g in GENERATIONS],
            )
            for name, s in SERVICES.items()
        ]
        state["plans"] = [
            self.stamped(
                epoch,
                id=uid("plan", name),
                name=name,
                human_name=human,
                description=f"{SERVICES[service_of(name)].human} {human}",
                addon_service=self.ref("addon_services", service_of(name)),
                compliance=None,
                default=False,
                installable_inside_private_network=True,
                installable_outside_private_network=True,
                price={"cents": cents, "contract": False, "unit": "month"},
                space_default=False,
                state="public",
                visible=True,
            )
            for name, (human, cents) in PLANS.items()
        ]

    # -- account, teams, spaces, pipelines ----------------------------------------------------
    def account(self) -> None:
        spec = self.spec.get("account") or {}
        created = spec.get("created_at", iso(EPOCH))
        email = spec.get("email", "ada@example.com")
        self.state["account"] = self.stamped(
            created,
            id=spec.get("id", uid("account", email)),
            email=email,
            name=spec.get("name"),
            allow_tracking=True,
            beta=False,
            federated=False,
            identity_provider=None,
            last_login=spec.get("last_login", created),
            sms_number=None,
            suspended_at=None,
            delinquent_at=None,
            two_factor_authentication=True,
            verified=True,
            default_organization=None,
            default_team=None,
            country_of_residence=spec.get("country_of_residence", "United States"),
        )

    def teams(self) -> None:
        self.state["teams"] = [
            self.stamped(
                t.get("created_at", iso(EPOCH)),
                id=t.get("id", uid("team", t["name"])),
                name=t["name"],
                role=t.get("role", "admin"),
                type="team",
                default=False,
                credit_card_collections=True,
                enterprise_account=None,
                identity_provider=None,
                membership_limit=25,
                provisioned_licenses=False,
            )
            for t in self.spec.get("teams", ())
        ]

    def spaces(self) -> None:
        self.state["spaces"], self.state["space_nats"] = [], {}
        for spec in self.spec.get("spaces", ()):
            created = spec.get("created_at", iso(EPOCH))
            team = self.ref("teams", spec["team"])
            space = self.stamped(
                created,
                id=spec.get("id", uid("space", spec["name"])),
                name=spec["name"],
                team=team,
                organization={"name": team["name"]},
                region=self.ref("regions", spec["region"]),
                shield=spec.get("shield", False),
                state="allocated",
                cidr=spec.get("cidr", "10.0.0.0/16"),
                data_cidr=spec.get("data_cidr", "10.1.0.0/16"),
                generation=self.ref("generations", spec.get("generation", "cedar")),
            )
            self.state["spaces"].append(space)
            self.state["space_nats"][space["id"]] = self.stamped(created, sources=spec.get("nat", []), state="enabled")

    def pipelines(self) -> None:
        self.state["pipelines"], self.state["review_app_configs"] = [], {}
        for spec in self.spec.get("pipelines", ()):
            pid = spec.get("id", uid("pipeline", spec["name"]))
            if spec.get("team"):
                owner = {"id": self.ref("teams", spec["team"])["id"], "type": "team"}
            else:
                owner = {"id": self.state["account"]["id"], "type": "user"}
            self.state["pipelines"].append(
                self.stamped(
                    spec.get("created_at", iso(EPOCH)),
                    id=pid,
                    name=spec["name"],
                    owner=owner,
                    generation=self.ref("generations", spec.get("generation", "cedar")),
                )
            )
            review = spec.get("review_apps")
            if review:
                self.state["review_app_configs"][pid] = {
                    "pipeline_id": pid,
                    "repo": {"id": review.get("repo_id", number("repo", spec["name"], low=10**8, high=10**9))},
                    "automatic_review_apps": review.get("automatic", True),
                    "destroy_stale_apps": review.get("destroy_stale", True),
                    "stale_days": review.get("stale_days", 5),
                    "wait_for_ci": review.get("wait_for_ci", False),
                    "base_name": review.get("base_name"),
                    "deploy_target": {"id": review.get("region", "us"), "type": "region"},
                }

    # -- apps ---------------------------------------------------------------------------------
    def app_object(self, spec: dict) -> dict:
        name = spec["name"]
        # spread over five years from EPOCH, stable for a given name
        created = spec.get("created_at") or iso(
            EPOCH + dt.timedelta(minutes=number("created", name, low=0, high=5 * 365 * 1440))
        )
        generation = spec.get("generation", "cedar")
        stack = spec.get("stack", "cnb" if generation == "fir" else DEFAULT_STACK)
        space = (
            next((s for s in self.state["spaces"] if s["name"] == spec["space"]), None) if spec.get("space") else None
        )
        if spec.get("space") and space is None:
            raise FixtureError(f"unknown space {spec['space']!r}")
        team = self.ref("teams", spec["team"]) if spec.get("team") else None
        account = self.state["account"]
        # team apps are owned by the team's pseudo-user
        owner = (
            {"email": f"{team['name']}@herokumanager.com", "id": team["id"]}
            if team
            else {"email": account["email"], "id": account["id"]}
        )
        host = f"{name}-{digest('domain', name, length=12)}" if created >= UNIQUE_DOMAINS_SINCE else name
        return self.stamped(
            created,
            id=spec.get("id", uid("app", name)),
            name=name,
            acm=spec.get("acm", False),
            archived_at=None,
            buildpack_provided_description=None,
            build_stack=self.ref("stacks", spec.get("build_stack", stack)),
            generation=self.ref("generations", generation),
            git_url=f"https://git.heroku.com/{name}.git",
            internal_routing=spec.get("internal_routing", False) if space else None,
            maintenance=spec.get("maintenance", False),
            owner=owner,
            organization=team,
            team=team,
            released_at=None,
            repo_size=self.repo_size(name),
            slug_size=None,
            region=space["region"] if space else self.ref("regions", spec.get("region", "us")),
            space={"id": space["id"], "name": space["name"], "shield": space["shield"]} if space else None,
            stack=self.ref("stacks", stack),
            web_url=f"https://{host}.herokuapp.com/",
        )

    def apps(self) -> None:
        self.state["apps"], self.state["app_data"], self.state["team_apps"] = [], {}, {}
        for spec in self.spec.get("apps", ()):
            if spec["name"] in self.apps_by_name:
                raise FixtureError(f"app {spec['name']!r} is defined twice")
            app = self.app_object(spec)
            self.state["apps"].append(app)
            self.apps_by_name[app["name"]] = app
            self.state["app_data"][app["id"]] = {"config_vars": {}, "release_config_vars": {}}
            if app["team"]:
                self.state["team_apps"][app["id"]] = {
                    "joined": spec.get("joined", True),
                    "locked": spec.get("locked", False),
                }

    # -- add-ons ------------------------------------------------------------------------------
    def credential(self, service: Service, addon: dict, owner: dict) -> str:
        """The add-on's connection string: one value, shared by every attachment."""
        lengths = re.findall(r"\{h(\d+)\}", service.value)
        ip = "-".join(str(number("ip", addon["id"], k, low=1, high=255)) for k in range(4))
        return service.value.format(
            aws=REGIONS[owner["region"]["name"]].aws,
            ip=ip,
            port=number("port", addon["id"], low=10000, high=60000),
            **{f"h{n}": digest("secret", addon["id"], n, length=int(n)) for n in lengths},
        )

    def addons(self) -> None:
        self.state["addons"], self.state["attachments"], self.state["attachment_config_vars"] = [], [], {}
        for app_spec in self.spec.get("apps", ()):
            for spec in app_spec.get("addons", ()):
                self.addon(self.app(app_spec["name"]), spec)

    def addon(self, owner: dict, spec: dict) -> None:
        plan = spec["plan"]
        if plan not in PLANS:
            raise FixtureError(f"unknown plan {plan!r}; known: {', '.join(PLANS)}")
        service = SERVICES[service_of(plan)]
        seed = (owner["name"], plan, len(self.state["addons"]))
        name = spec.get(
            "name",
            "-".join(
                (
                    service_of(plan).removeprefix("heroku-"),
                    pick(ADJECTIVES, "addon", *seed),
                    str(number("addon", *seed, low=10000, high=100000)),
                )
            ),
        )
        created = spec.get("created_at", owner["created_at"])
        addon_id = spec.get("id", uid("addon", name))
        addon = self.stamped(
            created,
            id=addon_id,
            name=name,
            actions=[],
            addon_service=self.ref("addon_services", service_of(plan)),
            plan=self.ref("plans", plan),
            app=self.app_ref(owner),
            billing_entity={**self.app_ref(owner), "type": "app"},
            billed_price={"cents": PLANS[plan][1], "contract": False, "unit": "month"},
            config_vars=[],
            provider_id=f"resource{number('provider', addon_id, low=10**8, high=10**10)}@heroku.com",
            state="provisioned",
            web_url=f"https://addons-sso.heroku.com/apps/{owner['id']}/addons/{addon_id}",
        )
        value = spec.get("value") or self.credential(
            service, addon, owner
        )  # `value`: a connection string of your choice
        for attachment in spec.get("attachments", [service.attachment]):
            # a bare name attaches to the owner; {app, name} to another app
            target = self.app(owner["name"] if isinstance(attachment, str) else attachment["app"])
            label = attachment if isinstance(attachment, str) else attachment["name"]
            names = [f"{label}_{suffix}" for suffix in service.suffixes]
            att = self.stamped(
                created,
                id=uid("attachment", target["name"], label),
                name=label,
                namespace=None,
                addon={"id": addon_id, "name": name, "app": self.app_ref(owner)},
                app=self.app_ref(target),
                web_url=addon["web_url"],
                log_input_url=None,
            )
            self.state["attachments"].append(att)
            self.state["attachment_config_vars"][att["id"]] = names
            self.state["app_data"][target["id"]]["config_vars"].update(dict.fromkeys(names, value))
            if target["id"] == owner["id"]:
                addon["config_vars"].extend(names)  # add-on config_vars are the owner's names only
        self.state["addons"].append(addon)

    def addons_on(self, app: dict) -> list:
        ids = {a["addon"]["id"] for a in self.state["attachments"] if a["app"]["id"] == app["id"]}
        return [a for a in self.state["addons"] if a["id"] in ids]

    # -- per-app resources --------------------------------------------------------------------
    def app_resources(self) -> None:
        for spec in self.spec.get("apps", ()):
            app = self.app(spec["name"])
            data = self.state["app_data"][app["id"]]
            for key, value in (spec.get("config_vars") or {}).items():
                if not isinstance(value, str):
                    raise FixtureError(
                        f"{app['name']}: config var {key} must be a string (quote it in YAML), got {value!r}"
                    )
            data["buildpack_installations"] = [
                {
                    "ordinal": ordinal,
                    "buildpack": {"url": bp["url"], "name": bp.get("name", bp["url"])}
                    if isinstance(bp, dict)
                    else {"url": bp, "name": bp},
                }
                for ordinal, bp in enumerate(spec.get("buildpacks", ()))
            ]
            data["domains"], data["sni_endpoints"] = self.domains(app, spec)
            data["features"] = [
                self.stamped(
                    app["created_at"],
                    id=uid("feature", app["name"], name),
                    name=name,
                    display_name=display,
                    description=text,
                    doc_url=f"https://devcenter.heroku.com/articles/{name}",
                    enabled=name in spec.get("features", ()),
                    state=state,
                    feedback_email="feedback@heroku.com",
                )
                for name, (display, text, state) in FEATURES.items()
            ]
            data["log_drains"] = self.log_drains(app, spec)
            data["webhooks"] = [
                self.stamped(
                    app["created_at"],
                    id=uid("webhook", app["name"], w["url"]),
                    app=self.app_ref(app),
                    url=w["url"],
                    include=w.get("include", ["api:release"]),
                    level=w.get("level", "notify"),
                )
                for w in spec.get("webhooks", ())
            ]
            data["collaborators"] = [
                self.stamped(
                    app["created_at"],
                    id=uid("collaborator", app["name"], email),
                    app=self.app_ref(app),
                    permissions=PERMISSIONS,
                    role="member" if app["team"] else "collaborator",
                    user={"email": email, "federated": False, "id": uid("account", email)},
                )
                for email in spec.get("collaborators", ())
            ]
            data["scheduler_jobs"] = self.scheduler_jobs(app, spec)
            self.history(app, spec, data)

    def domains(self, app: dict, spec: dict) -> tuple:
        """The app's domains (its herokuapp.com one first) and SNI endpoints (uploaded certificates, keys never
        shown)."""
        created = app["created_at"]
        default = app["web_url"].split("//")[1].rstrip("/")
        domains = [
            self.stamped(
                created,
                id=uid("domain", default),
                hostname=default,
                kind="heroku",
                cname=None,
                status="none",
                acm_status=None,
                acm_status_reason=None,
                app=self.app_ref(app),
                sni_endpoint=None,
            )
        ]
        endpoints = []
        for cert in spec.get("certificates", ()):
            hosts = cert["domains"]
            name = cert.get(
                "name",
                f"{pick(ADJECTIVES, 'sni', app['name'], hosts[0])}-"
                f"{number('sni', app['name'], hosts[0], low=10000, high=100000)}",
            )
            starts = cert.get("starts_at", created)
            ssl_cert = {
                "ca_signed?": True,
                "self_signed?": False,
                "cert_domains": hosts,
                "subject": f"/CN={hosts[0]}",
                "issuer": cert.get("issuer", "/C=US/O=Let's Encrypt/CN=R11"),
                "starts_at": starts,
                "expires_at": cert.get("expires_at", iso(parse_time(starts) + dt.timedelta(days=90))),
                "id": uid("ssl-cert", app["name"], name),
            }
            chain = (f"-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE{digest('cert', name, length=40)}\n"
                     "-----END CERTIFICATE-----\n")
            endpoints.append(
                self.stamped(
                    created,
                    id=uid("sni", app["name"], name),
                    name=name,
                    display_name=cert.get("display_name"),
                    domains=[uid("domain", host) for host in hosts],
                    app=self.app_ref(app),
                    certificate_chain=chain,
                    ssl_cert=ssl_cert,
                )
            )
        for host in spec.get("domains", ()):
            endpoint = next(
                ({"id": e["id"], "name": e["name"]} for e in endpoints if uid("domain", host) in e["domains"]), None
            )
            cname = (f"{pick(ADJECTIVES, 'cname', host)}-{pick(NOUNS, 'cname', host)}-"
                     f"{digest('cname', host, length=18)}.herokudns.com")
            domains.append(
                self.stamped(
                    created,
                    id=uid("domain", host),
                    hostname=host,
                    kind="custom",
                    status="succeeded",
                    cname=cname,
                    acm_status="cert issued" if app["acm"] and endpoint is None else None,
                    acm_status_reason=None,
                    app=self.app_ref(app),
                    sni_endpoint=endpoint,
                )
            )
        return domains, endpoints

    def log_drains(self, app: dict, spec: dict) -> list:
        drains = [
            self.stamped(
                app["created_at"],
                id=uid("drain", app["name"], url),
                url=url,
                token=f"d.{uid('drain-token', app['name'], url)}",
                addon=None,
                app=self.app_ref(app),
            )
            for url in spec.get("log_drains", ())
        ]
        for addon in self.state["addons"]:
            # a logging add-on installs a drain on the app that owns it
            if addon["app"]["id"] == app["id"] and addon["addon_service"]["name"] == "papertrail":
                host = f"logs{number('papertrail', addon['id'], low=1, high=10)}.papertrailapp.com"
                url = f"syslog+tls://{host}:{number('papertrail-port', addon['id'], low=20000, high=30000)}"
                drains.append(
                    self.stamped(
                        addon["created_at"],
                        id=uid("drain", app["name"], url),
                        url=url,
                        token=f"d.{uid('drain-token', addon['id'])}",
                        addon={"id": addon["id"], "name": addon["name"], "app": addon["app"]},
                        app=self.app_ref(app),
                    )
                )
        return drains

    def scheduler_jobs(self, app: dict, spec: dict) -> list:
        jobs = spec.get("scheduler_jobs", ())
        if jobs and not any(a["addon_service"]["name"] == "scheduler" for a in self.addons_on(app)):
            raise FixtureError(f"{app['name']}: scheduler_jobs need a scheduler:standard add-on on the app")
        out = []
        for n, job in enumerate(jobs):
            every, at = parse_schedule(job["schedule"])
            out.append(
                {
                    "id": str(number("job", app["name"], n, low=800000, high=900000)),
                    "type": "jobs",
                    "attributes": {
                        "command": job["command"],
                        "dyno-size": job.get("size", "Standard-1X"),
                        "every": every,
                        "at": at,
                        "ran-at": job.get("ran_at"),
                        "created-at": job.get("created_at", app["created_at"]),
                    },
                }
            )
        return out

    # -- releases, builds, slugs, OCI images, formation ------------------------------------------
    def deploys(self, app: dict, spec: dict) -> list:
        """The fixture's deploys (one at HEAD when it only gives process types), each with its commit sha and process
        types."""
        deploys = spec.get("deploys") or ([{}] if spec.get("process_types") else [])
        out, process_types = [], spec.get("process_types") or {}
        for n, deploy in enumerate(deploys):
            process_types = deploy.get("process_types", process_types)
            rev = deploy.get("commit", "HEAD")
            sha = self.commit_of(app["name"], rev) or (
                rev if re.fullmatch(r"[0-9a-f]{40}", rev) else digest("commit", app["name"], n, length=40)
            )
            out.append({**deploy, "commit": sha, "process_types": process_types})
        return out

    def history(self, app: dict, spec: dict, data: dict) -> None:
        """Releases in the order Heroku makes them: app creation, logging, add-on attachments, config, then deploys."""
        data.update(releases=[], slugs=[], builds=[], oci_images=[])
        user_config = spec.get("config_vars") or {}
        config: dict = {}
        moment = parse_time(app["created_at"])
        account = self.state["account"]

        def release(
            description: str,
            at: dt.datetime,
            status: str = "succeeded",
            slug: Optional[dict] = None,
            artifacts: tuple = (),
        ) -> dict:
            version = len(data["releases"]) + 1
            stream = f"https://release-output.heroku.com/streams/{uid('stream', app['id'], version)}" if slug else None
            rel = self.stamped(
                iso(at),
                id=uid("release", app["name"], version),
                version=version,
                description=description,
                status=status,
                app=self.app_ref(app),
                slug=slug,
                artifacts=list(artifacts),
                current=False,
                output_stream_url=stream,
                eligible_for_rollback=status == "succeeded",
                user={"id": account["id"], "email": account["email"]},
                addon_plan_names=sorted({a["plan"]["name"] for a in self.addons_on(app)}),
            )
            data["releases"].append(rel)
            data["release_config_vars"][rel["id"]] = dict(config)
            return rel

        release("Initial release", moment)
        release("Enable Logplex", moment + dt.timedelta(seconds=2))
        for att in (a for a in self.state["attachments"] if a["app"]["id"] == app["id"]):
            config.update({n: data["config_vars"][n] for n in self.state["attachment_config_vars"][att["id"]]})
            moment += dt.timedelta(minutes=3)
            release(f"Attach {att['name']} (@ref:{att['addon']['name']})", moment)
        if user_config:
            config.update(user_config)
            moment += dt.timedelta(minutes=5)
            keys = list(user_config)
            release(
                f"Set {', '.join(keys[:3])}{f' and {len(keys) - 3} more' if len(keys) > 3 else ''} config vars", moment
            )
        deploys = self.deploys(app, spec)
        for n, deploy in enumerate(deploys):
            moment = (
                parse_time(deploy["created_at"]) if deploy.get("created_at") else moment + dt.timedelta(days=2, hours=n)
            )
            slug, artifacts = self.artifact(app, spec, data, deploy, moment)
            rel = release(
                deploy.get("description") or self.deploy_description(app, deploy),
                moment,
                deploy.get("status", "succeeded"),
                slug,
                artifacts,
            )
            if app["stack"]["name"] != "container":
                data["builds"].append(self.build(app, deploy, slug, rel, moment))
        data["config_vars"].update(user_config)
        # the current release is the newest that succeeded, not necessarily the newest
        [r for r in data["releases"] if r["status"] == "succeeded"][-1]["current"] = True
        app["released_at"] = app["updated_at"] = data["releases"][-1]["created_at"]
        live = [d for d in deploys if d.get("status", "succeeded") == "succeeded"]
        data["formation"] = self.formation(app, spec, live[-1]["process_types"] if live else {})

    @staticmethod
    def deploy_description(app: dict, deploy: dict) -> str:
        if app["stack"]["name"] == "container":
            return "Deployed " + ", ".join(
                f"{ptype} ({digest('image', app['name'], deploy['commit'], ptype, length=12)})"
                for ptype in deploy["process_types"]
                if ptype != "release"
            )
        return f"Deploy {deploy['commit'][:8]}"

    def artifact(self, app: dict, spec: dict, data: dict, deploy: dict, moment: dt.datetime) -> tuple:
        """(release.slug, release.artifacts) of a deploy: a slug (Cedar) or an OCI image (Fir); container-registry
        releases carry neither."""
        created = iso(moment - dt.timedelta(minutes=1))
        if app["stack"]["name"] == "container":
            return None, ()
        if app["generation"]["name"] == "fir":
            image_id = uid("oci-image", app["name"], deploy["commit"])
            base = spec.get("base_image", "heroku/heroku:24-cnb")
            data["oci_images"].append(
                self.stamped(
                    created,
                    id=image_id,
                    digest=f"sha256:{digest('oci', image_id)}",
                    architecture=spec.get("architecture", "amd64"),
                    base_image_name=base,
                    base_top_layer=f"sha256:{digest('base', base)}",
                    commit=deploy["commit"],
                    commit_description=deploy.get("message", ""),
                    image_repo=f"{app['id']}/builds",
                    stack=self.ref("stacks", "cnb"),
                    process_types={
                        ptype: {
                            "name": ptype,
                            "display_cmd": cmd,
                            "command": f"/cnb/process/{ptype}",
                            "working_dir": "/workspace",
                            "default": ptype == "web",
                        }
                        for ptype, cmd in deploy["process_types"].items()
                    },
                    buildpacks=[
                        {
                            "id": bp,
                            "version": version,
                            "homepage": f"https://github.com/heroku/buildpacks-{bp.rsplit('/', maxsplit=1)[-1]}",
                        }
                        for bp, version in (spec.get("cnb_buildpacks") or DEFAULT_CNB_BUILDPACKS).items()
                    ],
                )
            )
            return None, ({"type": "oci-image", "id": image_id},)
        slug_id = uid("slug", app["name"], deploy["commit"], len(data["slugs"]))
        names = [bp["buildpack"]["name"].removeprefix("urn:buildpack:") for bp in data["buildpack_installations"]]
        description = deploy.get("buildpack_description") or BUILDPACK_DESCRIPTIONS.get(names[-1] if names else "")
        size = deploy.get("size", number("size", slug_id, low=30_000_000, high=90_000_000))
        blob = (f"https://s3.amazonaws.com/herokuslugs/heroku.com/v1/{slug_id}"
                f"?X-Amz-Expires=3600&X-Amz-Signature={digest('sig', slug_id)}")
        data["slugs"].append(
            self.stamped(
                created,
                id=slug_id,
                commit=deploy["commit"],
                commit_description=deploy.get("message", ""),
                buildpack_provided_description=description,
                checksum=f"SHA256:{digest('slug', slug_id)}",
                process_types=deploy["process_types"],
                size=size,
                stack=app["stack"],
                blob={"method": "GET", "url": blob},
            )
        )
        if deploy.get("status", "succeeded") == "succeeded":
            app["slug_size"], app["buildpack_provided_description"] = size, description
        return {"id": slug_id}, ({"type": "slug", "id": slug_id},)

    def build(self, app: dict, deploy: dict, slug: Optional[dict], release: dict, moment: dt.datetime) -> dict:
        build_id = uid("build", app["name"], release["version"])
        installed = self.state["app_data"][app["id"]]["buildpack_installations"]
        account = self.state["account"]
        return self.stamped(
            iso(moment - dt.timedelta(minutes=3)),
            id=build_id,
            app={"id": app["id"]},
            status="succeeded",
            stack=app["build_stack"]["name"],
            buildpacks=[dict(bp["buildpack"]) for bp in installed] or None,
            release={"id": release["id"]},
            slug=slug,
            output_stream_url=f"https://build-output.heroku.com/streams/{build_id}",
            user={"id": account["id"], "email": account["email"]},
            source_blob={
                "checksum": f"SHA256:{digest('source', build_id)}",
                "url": f"https://api.heroku.com/sources/{build_id}.tgz",
                "version": deploy["commit"],
                "version_description": deploy.get("message"),
            },
        ) | {"updated_at": release["created_at"]}

    def formation(self, app: dict, spec: dict, process_types: dict) -> list:
        """One entry per process type of the running release (none for an app never deployed); unlisted types: web 1,
        others 0."""
        wanted = spec.get("formation") or {}
        unknown = set(wanted) - set(process_types)
        if unknown:
            raise FixtureError(
                f"{app['name']}: formation types {sorted(unknown)} are not process types of the current release"
            )
        out = []
        for ptype, command in process_types.items():
            if ptype == "release":
                continue  # the release phase runs once per release: it is no formation type
            want = wanted.get(ptype, 1 if ptype == "web" else 0)
            want = want if isinstance(want, dict) else {"quantity": want}
            size = want.get("size", DEFAULT_SIZE[app["generation"]["name"]])
            if size not in DYNO_SIZES:
                raise FixtureError(f"{app['name']}: unknown dyno size {size!r}; known: {', '.join(DYNO_SIZES)}")
            out.append(
                self.stamped(
                    app["created_at"],
                    id=uid("formation", app["name"], ptype),
                    type=ptype,
                    quantity=want["quantity"],
                    size=size,
                    command=want.get("command", command),
                    app=self.app_ref(app),
                    dyno_size={"id": uid("dyno-size", size), "name": size},
                )
                | {"updated_at": app["updated_at"]}
            )
        return out

    # -- pipelines and review apps ------------------------------------------------------------------
    def couplings(self) -> None:
        self.state["pipeline_couplings"], self.state["review_apps"] = [], []
        for spec in self.spec.get("apps", ()):
            coupling = spec.get("pipeline")
            if not coupling:
                continue
            app = self.app(spec["name"])
            pipeline = self.ref("pipelines", coupling["name"], ("id",))
            self.state["pipeline_couplings"].append(
                self.stamped(
                    app["created_at"],
                    id=uid("coupling", app["name"]),
                    app={"id": app["id"]},
                    pipeline=pipeline,
                    stage=coupling["stage"],
                )
            )
            review = coupling.get("review_app")
            if review:
                self.state["review_apps"].append(
                    self.stamped(
                        app["created_at"],
                        id=uid("review-app", app["name"]),
                        app={"id": app["id"]},
                        app_setup={"id": uid("app-setup", app["name"])},
                        branch=review["branch"],
                        pr_number=review.get("pr_number"),
                        pipeline=pipeline,
                        status="created",
                        fork_repo=None,
                        creator={"id": self.state["account"]["id"]},
                        wait_for_ci=review.get("wait_for_ci", False),
                        error_status=None,
                        message=None,
                    )
                )

    def build_state(self) -> dict:
        for step in (
            self.catalogue,
            self.account,
            self.teams,
            self.spaces,
            self.pipelines,
            self.apps,
            self.addons,
            self.app_resources,
            self.couplings,
        ):
            step()
        return self.state


def no_repository(*_args) -> None:
    return None


def build_state(
    spec: dict,
    commit_of: Callable[[str, str], Optional[str]] = no_repository,
    repo_size: Callable[[str], Optional[int]] = no_repository,
) -> dict:
    return AccountBuilder(spec, commit_of, repo_size).build_state()
