"""A new provider's project, rendered from the templates shipped in this package.

``ams-billing new-provider NAME`` writes ``ams-billing-NAME/``: a distribution with a provider
over an in-process stand-in of the remote system, its contract harness, tests, a README and a
CI workflow (:data:`TEMPLATE`, the files under ``templates/provider/``). Each template is
rendered with :class:`string.Template` (``$$`` is a literal ``$``), so no dependency is added;
the placeholders are those of :class:`ProjectNames`. Paths are rendered too: ``__module__``
becomes the package, ``github/`` becomes ``.github/`` and ``gitignore`` becomes ``.gitignore``
(kept without their dot here, so nothing treats the templates as this project's own files).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import attrs

__all__ = [
    "NAME_PATTERN",
    "RESERVED_NAMES",
    "TEMPLATE",
    "InvalidNameError",
    "ProjectExistsError",
    "ProjectNames",
    "render_project",
    "write_project",
]

TEMPLATE = "provider"
"""The folder of ``templates/`` the project is rendered from."""

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
"""A provider name: lower-case letters and digits, words joined by single underscores."""

MAX_NAME_LENGTH = 20
"""The longest provider name (what ``AMS_BILLING_SERVICE_CLASS`` may quote in an error)."""

RESERVED_NAMES = frozenset({"fake", "xero"})
"""Names of the providers ams-billing ships: a second entry point under one would clash."""

_SUFFIX = ".tmpl"
_RENAMED_PARTS = {"github": ".github", "gitignore": ".gitignore"}


class InvalidNameError(ValueError):
    """The provider name cannot name an entry point, a package and a distribution."""


class ProjectExistsError(FileExistsError):
    """The project's folder exists already (``--force`` writes into it)."""


@attrs.frozen
class ProjectNames:
    """Every name the templates use, derived from the provider name.

    For ``acme_pay``: ``name`` ``acme_pay`` (the entry point, ``--billing-provider``), ``Name``
    ``AcmePay`` (classes: ``AcmePayProvider``), ``NAME`` ``ACME_PAY`` (environment variables),
    ``slug`` ``acme-pay`` (the distribution ``ams-billing-acme-pay``) and ``module``
    ``ams_billing_acme_pay`` (the package).
    """

    name: str

    @classmethod
    def of(cls, name: str) -> ProjectNames:
        """Validate ``name``; raise :class:`InvalidNameError` saying what is allowed."""
        if not NAME_PATTERN.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
            raise InvalidNameError(
                f"{name!r} is not a provider name: use lower-case letters and digits, starting "
                f"with a letter, words joined by single underscores, at most {MAX_NAME_LENGTH} "
                "characters (e.g. acme or acme_pay)"
            )
        if name in RESERVED_NAMES:
            raise InvalidNameError(
                f"{name!r} is the name of a provider ams-billing ships: choose another"
            )
        return cls(name)

    @property
    def camel(self) -> str:
        """``AcmePay``."""
        return "".join(word.capitalize() for word in self.name.split("_"))

    @property
    def slug(self) -> str:
        """``acme-pay``."""
        return self.name.replace("_", "-")

    @property
    def module(self) -> str:
        """``ams_billing_acme_pay``."""
        return f"ams_billing_{self.name}"

    @property
    def distribution(self) -> str:
        """``ams-billing-acme-pay``: also the folder the project is written to."""
        return f"ams-billing-{self.slug}"

    def placeholders(self) -> dict[str, str]:
        """What each ``${...}`` of the templates becomes."""
        return {
            "name": self.name,
            "Name": self.camel,
            "NAME": self.name.upper(),
            "slug": self.slug,
            "module": self.module,
        }


def render_project(names: ProjectNames) -> dict[PurePosixPath, str]:
    """Every file of the project, by its path inside the project folder, rendered."""
    values = names.placeholders()
    root = resources.files(__package__).joinpath("templates", TEMPLATE)
    rendered: dict[PurePosixPath, str] = {}
    for relative, template in _templates(root, PurePosixPath()):
        path = PurePosixPath(*(_part(part, names) for part in relative.parts))
        rendered[path] = string.Template(template.read_text("utf-8")).substitute(values)
    return dict(sorted(rendered.items()))


def write_project(
    names: ProjectNames, directory: Path, *, force: bool = False
) -> tuple[Path, list[PurePosixPath]]:
    """Write the project into ``directory/ams-billing-NAME``; return the folder and its files.

    :raises ProjectExistsError: the folder exists and ``force`` is false. With ``force`` the
        template's files are written over, and any other file there is left alone.
    """
    target = directory / names.distribution
    if target.exists() and not force:
        raise ProjectExistsError(
            f"{target} exists already: choose another --directory, remove it, or pass --force "
            "to write the template's files over the ones there"
        )
    files = render_project(names)
    for relative, text in files.items():
        path = target.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return target, list(files)


def _templates(
    folder: Traversable, relative: PurePosixPath
) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _templates(entry, relative / entry.name)
        elif entry.name.endswith(_SUFFIX):
            yield relative / entry.name.removesuffix(_SUFFIX), entry


def _part(part: str, names: ProjectNames) -> str:
    renamed: Mapping[str, str] = {**_RENAMED_PARTS, "__module__": names.module}
    return renamed.get(part, part)
