"""Adding examples to a Rasa NLU YAML file without losing anything it already holds.

The inbox's "Beri label" appends to `data/nlu/reviewed.yml`, a file people also edit by hand: in
Rasa's list form (`examples:` as a list of `text` + `metadata`), with comments, synonyms, keys we
do not know. So the file is edited as text: new lines go at the end of the intent's last `|`
block, or into a new block at the end of `nlu:`, and every other byte stays where it was.
"""

# Every edit is checked before it is used: the new file must parse to the old one plus exactly
# the new examples. A file whose layout defeats the text edit (flow style, say) is re-dumped from
# its data instead, which keeps every key and example but not its comments; one that is not a
# Rasa NLU mapping at all raises ValueError and is left alone.

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from nlu.trainingdata import parse_annotated

HEADER = (
    "# Examples labelled in the dashboard's inbox of unanswered questions (programme/inbox.py).\n"
    "# New examples go at the end of their intent's last block; everything else in this file,\n"
    "# comments and examples in Rasa's list form with metadata included, is kept as written.\n"
)


class _CannotEditInPlace(Exception):
    """The file's layout is not one the text edit handles; re-dump it from its data."""


def add_examples(source: str, intent: str, lines: Sequence[str]) -> str:
    """`source` with `lines` (annotated examples, one line each) added under `intent`."""
    if not lines:
        return source
    if not source.strip():
        return HEADER + 'version: "3.1"\nnlu:\n' + _block(intent, lines, "")
    old = _load(source)
    try:
        edited: str | None = _edit_in_place(source, intent, lines)
    except _CannotEditInPlace:
        edited = None
    if edited is not None and _adds_exactly(old, _load(edited), intent, lines):
        return edited
    rewritten = _rewrite(source, old, intent, lines)
    if _adds_exactly(old, _load(rewritten), intent, lines):
        return rewritten
    raise ValueError("the training data file cannot take new examples; it was left unchanged")


def examples_in(source: str) -> list[tuple[str, str]]:
    """(intent, plain text) of every intent example, in both of Rasa's forms."""
    document = _load(source) if source.strip() else {}
    found: list[tuple[str, str]] = []
    for block in _blocks(document):
        if not isinstance(block, dict) or "intent" not in block:
            continue
        examples = block.get("examples")
        texts: list[Any] = []
        if isinstance(examples, str):
            texts = [line.strip()[2:] for line in examples.splitlines() if _is_item(line)]
        elif isinstance(examples, list):
            texts = [e.get("text") if isinstance(e, dict) else e for e in examples]
        for text in texts:
            if isinstance(text, str) and text.strip():
                found.append((str(block["intent"]), parse_annotated(text.strip())[0]))
    return found


def _is_item(line: str) -> bool:
    return line.strip().startswith("- ")


def _load(source: str) -> Any:
    try:
        document = yaml.safe_load(source)
    except yaml.YAMLError as error:
        raise ValueError(f"the training data file is not valid YAML: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError("the training data file is not a Rasa NLU mapping")
    if not isinstance(document.get("nlu") or [], list):
        raise ValueError("the training data file's nlu: is not a list")
    return document


def _blocks(document: Any) -> list[Any]:
    blocks = document.get("nlu") if isinstance(document, dict) else None
    return blocks if isinstance(blocks, list) else []


def _block(intent: str, lines: Sequence[str], indent: str) -> str:
    name = intent if intent.isidentifier() else json.dumps(intent)
    out = [f"{indent}- intent: {name}\n", f"{indent}  examples: |\n"]
    out += [f"{indent}    - {line}\n" for line in lines]
    return "".join(out)


# --- the text edit ---------------------------------------------------------------------------


def _edit_in_place(source: str, intent: str, lines: Sequence[str]) -> str:
    try:
        root = yaml.compose(source)
    except yaml.YAMLError:
        raise _CannotEditInPlace from None
    if not isinstance(root, MappingNode) or root.flow_style:
        raise _CannotEditInPlace
    nlu = next((value for key, value in root.value if _scalar(key) == "nlu"), None)
    if nlu is None:
        return _ending_a_line(source) + "nlu:\n" + _block(intent, lines, "")
    if not isinstance(nlu, SequenceNode) or nlu.flow_style or not nlu.value:
        raise _CannotEditInPlace
    for item in reversed(nlu.value):
        examples = _own_examples(item, intent)
        if examples is not None:
            try:
                return _append_to_literal(source, examples, lines)
            except _CannotEditInPlace:
                continue  # not a list of "- " lines: try an earlier block, or add one
    last = nlu.value[-1]
    at = last.end_mark.index
    lead = "" if at == 0 or source[at - 1] == "\n" else "\n"
    return source[:at] + lead + _block(intent, lines, " " * nlu.start_mark.column) + source[at:]


def _scalar(node: Node) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _own_examples(item: Node, intent: str) -> ScalarNode | None:
    """The `examples: |` scalar of a block of `intent`, if the block has one."""
    if not isinstance(item, MappingNode) or item.flow_style:
        return None
    values = {_scalar(key): value for key, value in item.value}
    name, examples = values.get("intent"), values.get("examples")
    if name is None or _scalar(name) != intent:
        return None
    if isinstance(examples, ScalarNode) and examples.style == "|":
        return examples
    return None


def _append_to_literal(source: str, node: ScalarNode, lines: Sequence[str]) -> str:
    """The new `- ` lines after the block's last line, at the indentation of its first."""
    start, end = node.start_mark.index, node.end_mark.index
    region = source[start:end]
    header_end = region.find("\n")
    if header_end < 0:
        raise _CannotEditInPlace
    content = region[header_end + 1 :].splitlines(keepends=True)
    filled = [number for number, line in enumerate(content) if line.strip()]
    if not filled or not all(_is_item(content[n]) for n in filled):
        raise _CannotEditInPlace
    first = content[filled[0]]
    indent = first[: len(first) - len(first.lstrip(" "))]
    if not indent:
        raise _CannotEditInPlace
    last = filled[-1]
    before = "".join(content[: last + 1])
    if not before.endswith("\n"):
        before += "\n"
    added = "".join(f"{indent}- {line}\n" for line in lines)
    at = start + header_end + 1
    return source[:at] + before + added + "".join(content[last + 1 :]) + source[end:]


def _ending_a_line(source: str) -> str:
    return source if source.endswith("\n") else source + "\n"


# --- the data-level rewrite and the check ----------------------------------------------------


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, as Rasa's own files write examples."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_text)


def _rewrite(source: str, document: Any, intent: str, lines: Sequence[str]) -> str:
    comments = []
    for line in source.splitlines():
        if line.strip() and not line.startswith("#"):
            break
        comments.append(line + "\n")
    document = dict(document)
    document["nlu"] = [*_blocks(document), {"intent": intent, "examples": _literal(lines)}]
    body = yaml.dump(
        document, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=1_000_000
    )
    return "".join(comments) + body


def _literal(lines: Sequence[str]) -> str:
    return "".join(f"- {line}\n" for line in lines)


def _adds_exactly(old: Any, new: Any, intent: str, lines: Sequence[str]) -> bool:
    """Whether `new` is `old` with `lines` added to one block of `intent` or in a new one."""
    if not isinstance(new, dict):
        return False
    if {k: v for k, v in old.items() if k != "nlu"} != {k: v for k, v in new.items() if k != "nlu"}:
        return False
    before = [_comparable(block) for block in _blocks(old)]
    after = [_comparable(block) for block in _blocks(new)]
    added = list(lines)
    if len(after) == len(before) + 1:
        return after[:-1] == before and after[-1] == {"intent": intent, "examples": added}
    if len(after) != len(before):
        return False
    changed = [n for n, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    if len(changed) != 1:
        return False
    was, now = before[changed[0]], after[changed[0]]
    if not isinstance(was, dict) or not isinstance(now, dict) or was.get("intent") != intent:
        return False
    rest_was = {k: v for k, v in was.items() if k != "examples"}
    rest_now = {k: v for k, v in now.items() if k != "examples"}
    return rest_was == rest_now and now.get("examples") == [*was.get("examples", []), *added]


def _comparable(block: Any) -> Any:
    """A block with a `|` string of examples as the list of its lines ("- " taken off)."""
    if isinstance(block, dict) and isinstance(block.get("examples"), str):
        lines = [line.strip() for line in block["examples"].splitlines() if line.strip()]
        return {**block, "examples": [line[2:] if _is_item(line) else line for line in lines]}
    return block
