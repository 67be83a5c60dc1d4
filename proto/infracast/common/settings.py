"""Settings declared once: name, type, default, one-line description, per-profile defaults.

Each setting NAME is read from the flag --name, else the environment variable
INFRACAST_NAME, else the profile's default, else its own default. Values are
validated when loaded; any error, and any INFRACAST_* variable that names no
setting, stops the program with one line naming the setting and what is allowed.
Used by the server, the agent and the CLI, each with its own list of settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PREFIX = "INFRACAST_"
PROFILES = ("development", "production", "testing")


@dataclass(frozen=True)
class Setting:
    name: str  # snake_case; the flag is --kebab-case, the variable INFRACAST_UPPER_CASE
    parse: Callable[[str], Any]  # text -> value; raises ValueError with what is allowed
    default: str | None
    help: str
    secret: bool = False
    profile_defaults: Mapping[str, str] = field(default_factory=dict)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def variable(self) -> str:
        return PREFIX + self.name.upper()


class SettingsError(ValueError):
    """A setting's value is not allowed; the message says which and why."""


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not true or false")


_SIZE_UNITS = {"": 1, "B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3,
               "KB": 1000, "MB": 1000**2, "GB": 1000**3}


def parse_size(text: str) -> int:
    """Bytes in '64MiB', '500KB' or a plain number of bytes."""
    number = text.strip().rstrip("KMGiB")
    unit = text.strip()[len(number):]
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if unit not in _SIZE_UNITS or value < 0:
        raise ValueError(f"{text!r} is not a size: use e.g. 64MiB, 500KB or a number of bytes")
    return int(value * _SIZE_UNITS[unit])


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text

    return parse


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value

    return parse


def _parser(prog: str, description: str, settings: Sequence[Setting]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=description + f" Every flag can also be set as {PREFIX}<NAME>.")
    parser.add_argument("--profile", help=f"defaults for {', '.join(PROFILES)} "
                        f"(${PREFIX}PROFILE, default development)")
    for setting in settings:
        default = "none" if setting.default is None else setting.default
        if setting.secret:
            default = "unset"
        parser.add_argument(setting.flag, dest=setting.name, default=None,
                            help=f"{setting.help} (default {default})")
    return parser


def load(settings: Sequence[Setting], argv: Sequence[str] | None, env: Mapping[str, str],
         prog: str, description: str, extra_flags: Callable[[argparse.ArgumentParser], None] | None = None,
         ) -> tuple[str, dict[str, Any], argparse.Namespace]:
    """(profile, values by setting name, the parsed flags). Exits 2 on a bad value."""
    parser = _parser(prog, description, settings)
    if extra_flags is not None:
        extra_flags(parser)
    args = parser.parse_args(argv)
    try:
        profile, values = resolve(settings, args, env)
    except SettingsError as error:
        print(f"{prog}: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    return profile, values, args


def resolve(settings: Sequence[Setting], args: argparse.Namespace,
            env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    known = {s.variable for s in settings} | {PREFIX + "PROFILE"}
    unknown = sorted(k for k in env if k.startswith(PREFIX) and k not in known)
    if unknown:
        raise SettingsError(
            f"unknown setting {unknown[0]} in the environment; known: {', '.join(sorted(known))}")
    profile = args.profile or env.get(PREFIX + "PROFILE") or "development"
    if profile not in PROFILES:
        raise SettingsError(f"--profile / {PREFIX}PROFILE {profile!r} is not one of {', '.join(PROFILES)}")
    values: dict[str, Any] = {}
    for setting in settings:
        text = getattr(args, setting.name, None)
        source = setting.flag
        if text is None:
            # An empty variable counts as unset, as in most .env conventions.
            text, source = env.get(setting.variable) or None, setting.variable
        if text is None:
            text = setting.profile_defaults.get(profile, setting.default)
            source = f"{setting.name} (profile {profile} default)"
        if text is None:
            values[setting.name] = None
            continue
        try:
            values[setting.name] = setting.parse(text)
        except ValueError as error:
            raise SettingsError(f"{source}: {error}") from None
    return profile, values


def render(settings: Sequence[Setting], values: Mapping[str, Any], profile: str) -> str:
    """The effective configuration, one `INFRACAST_NAME=value` line each, secrets redacted."""
    lines = [f"{PREFIX}PROFILE={profile}"]
    for setting in settings:
        value = values.get(setting.name)
        shown = "" if value is None else ("<redacted>" if setting.secret else _text(value))
        lines.append(f"{setting.variable}={shown}")
    return "\n".join(lines)


def env_example(title: str, settings: Sequence[Setting]) -> str:
    """A .env file documenting every setting with its default, each commented out so that
    copying the file changes nothing until a line is uncommented."""
    lines = [f"# {title}", f"# One of {', '.join(PROFILES)}; it changes the defaults marked below.",
             f"# {PREFIX}PROFILE=development", ""]
    for setting in settings:
        lines.append(f"# {setting.help}")
        for profile, value in setting.profile_defaults.items():
            lines.append(f"#   (profile {profile}: {value})")
        lines.append(f"# {setting.variable}={'' if setting.default is None else setting.default}")
        lines.append("")
    return "\n".join(lines)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
