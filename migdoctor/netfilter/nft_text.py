"""Short nft-like renderings of JSON rules: a Decision names a rule the way `nft list` shows it."""

from typing import Any

# interface keys: nft prints them without "meta" and quotes their values
NAME_KEYS = frozenset({"iif", "iifname", "oif", "oifname"})
MAX_RULE_TEXT = 160


def expression(expr: Any, quote: bool = False) -> str:
    if isinstance(expr, bool):
        return "exists" if expr else "missing"
    if isinstance(expr, str):
        return f'"{expr}"' if quote else expr
    if isinstance(expr, int):
        return str(expr)
    if isinstance(expr, list):
        return ",".join(expression(item, quote) for item in expr)
    if not isinstance(expr, dict) or len(expr) != 1:
        return str(expr)
    ((key, body),) = expr.items()
    if key == "payload":
        if "protocol" in body:
            return f"{body['protocol']} {body['field']}"
        return f"@{body.get('base')},{body.get('offset')},{body.get('len')}"
    if key == "meta":
        return body["key"] if body["key"] in NAME_KEYS else f"meta {body['key']}"
    if key == "ct":
        return f"ct {body['key']}"
    if key == "fib":
        flags = body.get("flags", [])
        return f"fib {' . '.join(flags if isinstance(flags, list) else [flags])} {body['result']}"
    if key == "set":
        items = body if isinstance(body, list) else [body]
        return "{ " + ", ".join(_element(item, quote) for item in items) + " }"
    if key == "range":
        return "-".join(expression(item, quote) for item in body)
    if key == "prefix":
        return f"{body['addr']}/{body['len']}"
    if key == "concat":
        return " . ".join(expression(item, quote) for item in body)
    if key == "elem":
        return expression(body["val"], quote)
    if key in ("&", "|", "^", "<<", ">>"):
        return f" {key} ".join(expression(item) for item in body)
    return statement(expr)


def _element(item: Any, quote: bool) -> str:
    if isinstance(item, list) and len(item) == 2:  # a map's key : value pair
        return f"{expression(item[0], quote)} : {expression(item[1])}"
    return expression(item, quote)


def statement(stmt: dict[str, Any]) -> str:
    ((key, body),) = stmt.items()
    if key == "match":
        left = body["left"]
        quote = isinstance(left, dict) and left.get("meta", {}).get("key") in NAME_KEYS
        op = "" if body["op"] in ("==", "in") else f"{body['op']} "
        return f"{expression(left)} {op}{expression(body['right'], quote)}"
    if key in ("jump", "goto"):
        return f"{key} {body['target']}"
    if key == "reject" and body:
        return " ".join(["reject with", *(str(body[key]) for key in ("type", "expr") if key in body)])
    if key == "vmap":
        return f"{expression(body['key'])} vmap {expression(body['data'])}"
    if key == "xt":
        return f'xt {body.get("type")} "{body.get("name")}"' if body else "xt"
    return key


def rule(label: str, body: dict[str, Any]) -> str:
    """The rule as `nft -a list` shows it, prefixed by its chain: what a user can find and fix."""
    text = " ".join(statement(stmt) for stmt in body.get("expr", []))
    if body.get("comment"):
        text += f' comment "{body["comment"]}"'
    if len(text) > MAX_RULE_TEXT:
        text = text[: MAX_RULE_TEXT - 3] + "..."
    return f"{label} handle {body.get('handle')}: {text}"
