"""LaTeX for every view: names (`w0` -> `w_{0}`, `α` -> `\\alpha`), numbers, and bp formulas."""

from __future__ import annotations

import re

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "varsigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda",
    "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}  # fmt: skip


def latex_name(name: str) -> str:
    """A name in LaTeX: w0 -> w_{0}, x_1 -> x_{1}, lr -> \\mathit{lr}, α -> \\alpha, 2.5 -> 2.5."""
    if name in _GREEK:
        return "\\" + _GREEK[name]
    if not name or not (name[0].isalpha() or name[0] == "_"):
        return latex_number(name)
    base, sub = name, ""
    if "_" in name.strip("_"):
        base, sub = name.split("_", 1)
    else:
        stem = name.rstrip("0123456789")
        if stem and stem != name:
            base, sub = stem, name[len(stem) :]
    base = base.replace("_", r"\_")
    base = base if len(base) == 1 else f"\\mathit{{{base}}}"
    sub = sub.replace("_", r"\_")
    return f"{base}_{{{sub}}}" if sub else base


def latex_number(text: str) -> str:
    """`1.1259e+15` -> `1.1259 \\times 10^{15}`; other numbers unchanged."""
    if "e" in text and text[0] in "-0123456789.":
        mant, _, exp = text.partition("e")
        return f"{mant} \\times 10^{{{int(exp)}}}"
    return text


_TOKEN = re.compile(r"\s*(\d+\.?\d*(?:e[-+]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|σ|\S)")
_FUNCS = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "tanh": r"\tanh"}
_FUNCS |= {"max": r"\max", "min": r"\min", "σ": r"\sigma", "sign": r"\operatorname{sign}"}
_FUNCS |= {"relu": r"\operatorname{relu}", "abs": r"\operatorname{abs}", "sqrt": r"\operatorname{sqrt}"}
_FUNCS |= {"softplus": r"\operatorname{softplus}", "cosh": r"\cosh", "sinh": r"\sinh"}
_FUNCS |= {"step": r"\operatorname{step}", "sigmoid": r"\sigma"}
# arrays: A @ B is written as a product by juxtaposition, transpose(A) as A^\top
_FUNCS |= {f: rf"\operatorname{{{f}}}" for f in ("sum", "mean", "dot", "softmax", "logsumexp", "size")}
_FUNCS |= {"@": r"\,"}


def latex_formula(text: str) -> str:
    """One of the gate table's formulas (`(1 - s) * s`, `xpy^2`, `x^(y - 1)`) in LaTeX."""
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "^":
            # brace the exponent: a number (with its sign), a name, or a parenthesised group
            j, depth, group = i + 1, 0, []
            while j < len(tokens):
                group.append(tokens[j])
                depth += tokens[j] == "("
                depth -= tokens[j] == ")"
                j += 1
                if depth == 0 and group[-1] != "-":
                    break
            if group[0] == "(" and group[-1] == ")":
                group = group[1:-1]
            out.append("^{" + latex_formula(" ".join(group)) + "}")
            i = j
            continue
        if tok == "transpose" and tokens[i + 1 : i + 2] == ["("]:
            j, depth = i + 1, 0
            while j < len(tokens):
                depth += tokens[j] == "("
                depth -= tokens[j] == ")"
                j += 1
                if depth == 0:
                    break
            inner = tokens[i + 2 : j - 1]
            body = latex_formula(" ".join(inner))
            out.append((body if len(inner) == 1 else f"({body})") + r"^{\top}")
            i = j
            continue
        if tok == "*":
            out.append(r"\cdot")
        elif tok in _FUNCS:
            out.append(_FUNCS[tok])
        elif tok[0].isalpha() or tok[0] == "_":
            out.append(latex_name(tok))
        else:
            out.append(tok)
        i += 1
    text = " ".join(out).replace("( ", "(").replace(" )", ")").replace(r" ^{", "^{")
    return text.replace("(- ", "(-")


# -- a graph node in LaTeX (bp diff --format latex) -------------------------------------------
SUM, PRODUCT, MUL, UNARY, POWER, ATOM = 1, 2, 2.5, 3, 4, 5  # as bpcli.core.expr


def _lwrap(x, level: int) -> str:
    return x[0] if x[1] >= level else f"\\left({x[0]}\\right)"


def latex_form(op: str, p, xs) -> tuple[str, int]:
    """One gate in LaTeX over its inputs' (latex, precedence): the `form` of derive.program."""
    from ..core.expr import CALL_NAMES
    from ..core.gates import number_text

    if op == "var":
        return latex_name(p), ATOM
    if op == "const":
        return latex_number(number_text(p)), UNARY if p < 0 else ATOM
    if op in ("add", "sub"):
        return f"{_lwrap(xs[0], SUM)} {'+' if op == 'add' else '-'} {_lwrap(xs[1], PRODUCT)}", SUM
    if op == "mul":
        return f"{_lwrap(xs[0], PRODUCT)} \\cdot {_lwrap(xs[1], MUL)}", MUL
    if op == "div":
        return f"\\frac{{{xs[0][0]}}}{{{xs[1][0]}}}", POWER
    if op == "neg":
        return f"-{_lwrap(xs[0], POWER)}", UNARY
    if op == "pow":
        return f"{_lwrap(xs[0], ATOM)}^{{{xs[1][0]}}}", POWER
    if op == "id":
        return xs[0]
    if op == "scale":
        return f"{latex_number(number_text(p))} \\cdot {_lwrap(xs[0], MUL)}", MUL
    if op == "shift":
        return f"{_lwrap(xs[0], SUM)} {'+' if p >= 0 else '-'} {latex_number(number_text(abs(p)))}", SUM
    if op == "powc":
        return f"{_lwrap(xs[0], ATOM)}^{{{latex_number(number_text(p))}}}", POWER
    if op == "recip":
        return f"\\frac{{1}}{{{xs[0][0]}}}", POWER
    if op == "sqrt":
        return f"\\sqrt{{{xs[0][0]}}}", ATOM
    if op == "abs":
        return f"\\left|{xs[0][0]}\\right|", ATOM
    if op == "exp":
        return f"e^{{{xs[0][0]}}}", POWER
    name = CALL_NAMES.get(op, op)
    fn = _FUNCS.get(name, f"\\operatorname{{{name}}}")
    return f"{fn}\\left({', '.join(x[0] for x in xs)}\\right)", ATOM
