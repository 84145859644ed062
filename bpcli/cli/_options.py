"""Start-up speed: option values without pydantic (see `plain_coercion`)."""

from __future__ import annotations

import re

_INT = re.compile(r"[+-]?\d+")
# possessive quantifiers: 20,000 digits and a stray letter fail at once, not in seconds
_FLOAT = re.compile(r"[+-]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][+-]?\d++)?")


_PLAIN = {
    str: lambda v: v if isinstance(v, str) else _no(v),
    bool: lambda v: v if isinstance(v, bool) else _no(v),
    int: lambda v: int(v) if isinstance(v, int) or _INT.fullmatch(str(v)) else _no(v),
    float: lambda v: float(v) if isinstance(v, (int, float)) or _FLOAT.fullmatch(str(v)) else _no(v),
}


def _no(value):
    raise ValueError(value)


def plain_coercion(command) -> None:
    """Typer >= 0.25 coerces every option through a pydantic TypeAdapter, and importing pydantic
    costs more than all of bp's own start-up. bp's options are plain strings, numbers and flags:
    convert those directly, and hand anything unusual (or any value that fails to convert) to
    Typer's own coercion so its checks and messages stay exactly the same."""
    try:
        _install_plain(command)
    except Exception:  # another Typer version: keep its own coercion (correct, only slower)
        return


def _install_plain(command) -> None:
    from typer._coercion import RuntimeParam, build_runtime_param

    class Plain(RuntimeParam):
        def _coerce_value(self, value, param, ctx):
            try:
                if isinstance(self.annotation, type):
                    return _PLAIN[self.annotation](value)
                item = _PLAIN[self.annotation.__args__[0]]
                if not isinstance(value, (list, tuple)):
                    raise ValueError(value)
                return [item(v) for v in value]
            except ValueError:
                return build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=ctx)

    commands = [command, *getattr(command, "commands", {}).values()]
    for cmd in commands:
        help_option = cmd.get_help_option(cmd.context_class(cmd))  # made on first use, cached
        for param in [*cmd.params, help_option]:
            desc = getattr(param, "type_descriptor", None)
            if desc is None or getattr(param, "_runtime_param", True) is not None:
                continue
            ann, info = desc.annotation, desc.parameter_info
            if getattr(ann, "__origin__", None) is list and len(getattr(ann, "__args__", ())) == 1:
                key = ann.__args__[0]
            else:
                key = ann
            if key in _PLAIN and info.parser is None and getattr(info, "click_type", None) is None:
                if info.min is None and info.max is None:
                    param._runtime_param = Plain(parameter_info=info, annotation=ann)
