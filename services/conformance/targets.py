"""Which plug-ins a kit run checks: named by service code (an installed `superapp.services` entry point) or
by the package that defines them (installed or only importable, so an agency checks a plug-in before its
entry point is installed)."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import EntryPoint, entry_points

from services.registry import GROUP, ServicePlugin


def installed() -> list[EntryPoint]:
    """Every installed plug-in, by code: what `make test` runs the kit over."""
    return sorted(entry_points(group=GROUP), key=lambda entry: entry.name)


def resolve(name: str) -> list[EntryPoint]:
    """The plug-ins `name` means: a service code, else the installed entry points of package `name`, else the
    ServicePlugin subclasses the module `name` defines. ValueError when it means none."""
    found = installed()
    by_code = [entry for entry in found if entry.name == name]
    if by_code:
        return by_code
    in_package = [entry for entry in found if entry.module == name or entry.module.startswith(f"{name}.")]
    if in_package:
        return in_package
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        raise ValueError(f"{name!r} is neither an installed service code ({', '.join(e.name for e in found)}) "
                         f"nor an importable package ({error})") from error
    classes = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
               if issubclass(cls, ServicePlugin) and cls is not ServicePlugin and cls.__module__ == module.__name__]
    if not classes:
        raise ValueError(f"package {name!r} defines no ServicePlugin subclass")
    return [EntryPoint(name=str(getattr(cls, "code", cls.__name__)), value=f"{cls.__module__}:{cls.__qualname__}",
                       group=GROUP) for cls in classes]
