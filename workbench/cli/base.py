"""Typer plumbing shared by every command module: the app class, the global options and option checks.

Every group and command is built by :class:`App` with the command classes below, which

* give ``--help`` a boolean default, so typer skips its (pydantic) conversion of the unset flag: a command
  without options, e.g. ``workbench strategies``, imports no pydantic;
* accept the global options (:data:`GLOBAL_FLAGS`: ``--debug``, ``--keep-services``) anywhere on the command
  line, not only before the command: the root group reads them wherever they are;
* import a command's module only when the command is used (:class:`LazyGroup`, the root): running one
  command costs neither the imports nor the option building of the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

import typer
from typer.core import TyperCommand, TyperGroup

from workbench.core import checks

__all__ = ["GLOBAL_FLAGS", "App", "LazyGroup", "checked", "hoist_global_flags"]

#: flags of the root command that may be given anywhere on the command line
GLOBAL_FLAGS: Final = ("--debug", "--keep-services")


def hoist_global_flags(args: list[str]) -> list[str]:
    """``args`` with the :data:`GLOBAL_FLAGS` moved to the front (where the root command reads them); a
    ``--`` ends the options, and what follows it is left alone.

    >>> hoist_global_flags(["db", "status", "--debug"])
    ['--debug', 'db', 'status']
    >>> hoist_global_flags(["report", "nb", "--", "--debug"])
    ['report', 'nb', '--', '--debug']
    """
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
    return [*flags, *(a for a in args[:end] if a not in GLOBAL_FLAGS), *args[end:]]


def _light_help(option: Any) -> Any:
    if option is not None and not isinstance(option.default, bool):
        option.default = False
    return option


class Command(TyperCommand):
    """A command whose ``--help`` costs no pydantic when not given."""

    def get_help_option(self, ctx: Any) -> Any:
        return _light_help(super().get_help_option(ctx))


class Group(TyperGroup):
    """A group whose ``--help`` costs no pydantic when not given; the root group reads the global options
    anywhere on the command line."""

    def get_help_option(self, ctx: Any) -> Any:
        return _light_help(super().get_help_option(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if ctx.parent is None:   # the root: global flags anywhere; nothing but them is no command (the help)
            args = hoist_global_flags(args) if any(a not in GLOBAL_FLAGS for a in args) else []
        return super().parse_args(ctx, args)


class LazyGroup(Group):
    """The root group, its commands loaded on first use: ``command_modules`` maps a command to the module
    whose ``app`` holds it (merged into the root), ``group_sources`` a group to ``module:attribute`` of its
    Typer; their order is the order of ``--help``. Made by :meth:`of`."""

    command_modules: ClassVar[Mapping[str, str]] = {}
    group_sources: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def of(cls, command_modules: Mapping[str, str], group_sources: Mapping[str, str]) -> type[LazyGroup]:
        return type("Root", (cls,), {"command_modules": command_modules, "group_sources": group_sources})

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.command_modules, *self.group_sources]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            if cmd_name in self.command_modules:
                module = importlib.import_module(self.command_modules[cmd_name])
                self.commands.update(typer.main.get_group(module.app).commands)  # the module's commands, built
            elif cmd_name in self.group_sources:
                module_name, _, attribute = self.group_sources[cmd_name].partition(":")
                group = typer.main.get_group(getattr(importlib.import_module(module_name), attribute))
                group.name = cmd_name
                self.commands[cmd_name] = group
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.list_commands(ctx):   # a typo: the suggestions need every name
            for name in self.list_commands(ctx):
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


class App(typer.Typer):
    """A :class:`typer.Typer` of :class:`Group` and :class:`Command`, help in click's plain layout (typer's
    rich help imports rich and markdown on every ``--help``)."""

    def __init__(self, *, help: str | None = None, no_args_is_help: bool = True,  # noqa: A002 (typer's name)
                 invoke_without_command: bool = False, add_completion: bool = False,
                 cls: type[TyperGroup] = Group) -> None:
        super().__init__(cls=cls, help=help, no_args_is_help=no_args_is_help, rich_markup_mode=None,
                         invoke_without_command=invoke_without_command, add_completion=add_completion)

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None,  # type: ignore[override]
                **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return super().command(name, cls=cls or Command, **options)


def checked(bound: checks.Bound, option: str) -> Callable[[Any], Any]:
    """An option callback: the value checked against ``bound`` (see :mod:`workbench.core.checks`) before the
    command runs."""
    return lambda value: value if value is None else bound.check(value, option)
