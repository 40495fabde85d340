"""`-o json` and `-o yaml`: the same document, as kubectl prints both."""

from __future__ import annotations

import json
from typing import Any

import yaml

STRUCTURED = ("json", "yaml")
OUTPUTS = ("table", *STRUCTURED)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (`|`), as kubectl prints a ConfigMap's data."""


def _string(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _string)


def structured(document: Any, output: str) -> str:
    """`document` (plain lists, dicts, strings and numbers) as JSON or as YAML."""
    if output == "yaml":
        text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100)
        return text[:-1]  # print() adds the document's last newline back, a block's included
    return json.dumps(document, indent=2)
