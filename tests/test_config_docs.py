"""The configuration tables in the docs and the settings the code reads stay in step.

The code's side is read from the source (every environment variable a settings module
asks for, with its default when that is a literal); the docs' side from the tables:
README.md's "Configuration" table for everything, docs/relay.md's for the relay.
deploy/vitrine.env.example names every setting of the README's table too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.servers import ROOT
from web.service.services import config_defaults

# Where settings are read from the environment: the app, the relay, the process runners.
SOURCES = [
    "web/config.py",
    "streaming/config.py",
    "web/serve.py",
    "deploy/gunicorn.conf.py",
    "sessions/service/reminders.py",
    "sessions/groupcommit.py",
]
NAME = re.compile(r"[A-Z][A-Z0-9_]+")


def read_by_code(path: str) -> dict[str, object]:
    """Variable -> literal default (or None) for each env.get / os.environ.get / _bool."""
    tree = ast.parse((ROOT / path).read_text())
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0]
        if called not in ("get", "_bool", "getenv") or not isinstance(first, ast.Constant):
            continue
        if not isinstance(first.value, str) or not NAME.fullmatch(first.value):
            continue
        if called == "get" and isinstance(func, ast.Attribute):
            owner = ast.unparse(func.value)
            if owner not in ("os.environ", "env"):
                continue
        default = None
        if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            default = node.args[1].value
        found.setdefault(first.value, default)
    return found


def code_settings() -> dict[str, object]:
    settings: dict[str, object] = {}
    for path in SOURCES:
        for name, default in read_by_code(path).items():
            if settings.get(name) is None:
                settings[name] = default
    for name, value in config_defaults().items():  # web/service: app.config from env
        settings.setdefault(name, str(value))
    return settings


def split_cell(cell: str) -> list[str]:
    """`a`, `b, c` -> ["`a`", "`b, c`"]: commas outside backticks."""
    parts, current, quoted = [], "", False
    for char in cell:
        if char == "`":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def table_rows(path: Path, heading: str) -> list[list[str]]:
    """The rows (cells) of the first table after `heading`."""
    text = path.read_text()
    start = text.index(heading)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return [row for row in rows[2:]]  # past the header and its --- line


def documented(path: Path, heading: str) -> dict[str, str]:
    """Variable -> its default's text, from the table's first two columns."""
    found = {}
    for row in table_rows(path, heading):
        names = [n.strip("` ") for n in split_cell(row[0])]
        defaults = split_cell(row[1]) if len(row) > 1 else []
        if len(defaults) != len(names):
            defaults = [row[1]] * len(names)
        for name, default in zip(names, defaults, strict=True):
            assert NAME.fullmatch(name), f"{path.name}: {name!r} in the first column"
            found[name] = default
    return found


README = documented(ROOT / "README.md", "## Configuration")


def test_every_setting_the_code_reads_is_in_the_readme_and_nothing_else() -> None:
    code = set(code_settings())
    assert sorted(code - set(README)) == [], "read by the code, missing from README.md"
    assert sorted(set(README) - code) == [], "in README.md, read by no code"


@pytest.mark.parametrize(
    "name,default",
    sorted((n, d) for n, d in code_settings().items() if isinstance(d, str) and d),
)
def test_the_readme_gives_the_code_s_default(name: str, default: str) -> None:
    """A literal default in the code is the one the README's table shows."""
    assert f"`{default}`" in README[name] or README[name] == default, (
        f"{name}: the code's default is {default!r}, README.md says {README[name]!r}"
    )


def test_the_relay_table_lists_what_the_relay_reads() -> None:
    relay_md = ROOT / "docs" / "relay.md"
    table = documented(relay_md, "## Running it")
    reads = set(read_by_code("streaming/config.py"))
    assert set(table) <= reads, "docs/relay.md lists a variable the relay does not read"
    rows = " ".join(" ".join(row) for row in table_rows(relay_md, "## Running it"))
    assert sorted(n for n in reads if f"`{n}`" not in rows) == [], (
        "read by the relay, not in docs/relay.md's table"
    )


def test_the_example_environment_names_every_setting() -> None:
    example = (ROOT / "deploy" / "vitrine.env.example").read_text()
    named = set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", example, re.M))
    assert sorted(set(README) - named) == [], "missing from deploy/vitrine.env.example"
    assert sorted(named - set(README)) == [], "in the example, not in README.md"


def example_environment() -> dict[str, str]:
    """The example's uncommented settings, read as systemd's EnvironmentFile= and compose's
    env_file read them (one level of surrounding single quotes taken away)."""
    env = {}
    for line in (ROOT / "deploy" / "vitrine.env.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        env[name.strip()] = value
    return env


def test_the_example_environment_starts_a_web_node_and_a_relay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streaming.config import RelayConfig
    from web.config import load_config

    env = example_environment()
    for name in list(README):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = load_config()
    assert config["VITRINE_ENV"] == "production" and config["TRUSTED_PROXY_COUNT"] == 1
    assert config["TURN_URLS"][0] == "turn:turn.example.com:3478" and config["TURN_SECRET"]
    relay = RelayConfig.from_env(env)
    assert relay.turn_urls == tuple(config["TURN_URLS"]) and relay.turn_secret
    assert relay.redis_url == env["REDIS_URL"]
