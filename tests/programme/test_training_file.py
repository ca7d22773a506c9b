"""Adding examples to a Rasa NLU file keeps every example, key and comment it did not write."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nlu.trainingdata import parse_annotated
from programme.training_file import HEADER, add_examples, examples_in

INTENTS = ("ask_payment_schedule", "ask_bpnt", "greet")

# One example line as the inbox writes it: one line, no control characters, trimmed.
example_lines = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn", "Zl", "Zp")),
        min_size=1,
        max_size=40,
    )
    .map(lambda text: " ".join(text.split()))
    .filter(bool)
)
# Text people write by hand: any printable text, several lines too.
hand_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cn", "Zl", "Zp"), blacklist_characters="\x00\x85\r"
    ),
    min_size=1,
    max_size=40,
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), hand_text)
metadata = st.dictionaries(st.sampled_from(["sentiment", "sumber", "catatan"]), scalars, max_size=2)


@st.composite
def intent_blocks(draw: st.DrawFn) -> dict[str, Any]:
    """An intent block in one of Rasa's forms, sometimes with keys of its own."""
    block: dict[str, Any] = {"intent": draw(st.sampled_from(INTENTS))}
    form = draw(st.sampled_from(["lines", "list", "list-with-metadata", "odd-lines"]))
    if form == "lines":
        lines = draw(st.lists(example_lines, min_size=1, max_size=4))
        block["examples"] = "".join(f"- {line}\n" for line in lines)
    elif form == "odd-lines":  # a `|` block that is not only "- " lines: never edited in place
        block["examples"] = "- " + draw(example_lines) + "\nnot an item\n"
    else:
        examples = []
        for text in draw(st.lists(hand_text, min_size=1, max_size=3)):
            example: dict[str, Any] = {"text": text}
            if form == "list-with-metadata":
                example["metadata"] = draw(metadata)
            examples.append(example)
        block["examples"] = examples
    if draw(st.booleans()):
        block["metadata"] = draw(metadata)
    return block


other_blocks = st.one_of(
    st.builds(lambda v, e: {"synonym": v, "examples": f"- {e}\n"}, hand_text, example_lines),
    st.builds(lambda v, e: {"regex": v, "examples": f"- {e}\n"}, hand_text, example_lines),
    st.builds(lambda v, e: {"lookup": v, "examples": f"- {e}\n"}, hand_text, example_lines),
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {"version": "3.1"}
    blocks = draw(st.lists(st.one_of(intent_blocks(), other_blocks), min_size=1, max_size=5))
    extra = draw(st.dictionaries(st.sampled_from(["responses", "catatan_tim", "x-owner"]), scalars))
    if draw(st.booleans()):
        document.update(extra)
        document["nlu"] = blocks
    else:
        document["nlu"] = blocks
        document.update(extra)
    return document


class HandDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, as people write Rasa files."""


HandDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    ),
)


@st.composite
def sources(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A document and a file that holds it, in block or flow style, with comments."""
    document = draw(documents())
    style = draw(st.sampled_from(["block", "block", "block", "flow"]))
    body = yaml.dump(
        document,
        Dumper=HandDumper,
        allow_unicode=True,
        sort_keys=False,
        indent=draw(st.sampled_from([2, 4])),
        width=draw(st.sampled_from([80, 1000])),
        default_flow_style=None if style == "flow" else False,
    )
    return document, "# ditulis tangan\n" + body + ("# akhir\n" if draw(st.booleans()) else "")


def plain(example_line: str) -> str:
    return parse_annotated(example_line)[0]


@settings(max_examples=150, deadline=None)
@given(source=sources(), intent=st.sampled_from(INTENTS), lines=st.lists(example_lines, max_size=3))
def test_property_adding_examples_keeps_every_example_and_key_it_did_not_write(
    source: tuple[dict[str, Any], str], intent: str, lines: list[str]
) -> None:
    document, text = source
    assume(yaml.safe_load(text) == document)  # PyYAML's own dump must round-trip first

    added = add_examples(text, intent, lines)
    after = yaml.safe_load(added)

    assert {k: v for k, v in after.items() if k != "nlu"} == {
        k: v for k, v in document.items() if k != "nlu"
    }
    expected = Counter(examples_in(text)) + Counter((intent, plain(line)) for line in lines)
    assert Counter(examples_in(added)) == expected
    # Every block but the one that took the lines is as it was, in the same order.
    kept = [block for block in after["nlu"] if block in document["nlu"]]
    assert len(kept) >= len(document["nlu"]) - 1
    if not lines:
        assert added == text


@settings(max_examples=100, deadline=None)
@given(source=sources(), intent=st.sampled_from(INTENTS), lines=st.lists(example_lines, min_size=1))
def test_property_a_block_style_file_is_only_added_to(
    source: tuple[dict[str, Any], str], intent: str, lines: list[str]
) -> None:
    _, text = source
    nlu = next(value for key, value in yaml.compose(text).value if key.value == "nlu")
    if getattr(nlu, "flow_style", False):  # "nlu:" in flow style is re-dumped instead
        return

    added = add_examples(text, intent, lines)

    # The old file's lines are all there, in order, comments included: lines were only inserted.
    remaining = iter(added.splitlines())
    assert all(any(mine == line for mine in remaining) for line in text.splitlines())


HAND_WRITTEN = """\
# Tim data: contoh dari lapangan. Jangan dihapus.
version: "3.1"
nlu:
  - intent: ask_payment_schedule
    examples:
      - text: |
          kapan [pkh](programme) cair
        metadata:
          sumber: lapangan
      - text: pencairan tahap empat
  - intent: greet
    examples: |
      - halo bu  # salam
      - pagi

  - synonym: pkh
    examples: |
      - program keluarga harapan
responses:
  utter_greet:
    - text: Halo!
"""


def test_hand_written_list_form_examples_with_metadata_are_kept_byte_for_byte() -> None:
    added = add_examples(HAND_WRITTEN, "greet", ["selamat siang"])
    again = add_examples(added, "ask_payment_schedule", ["kapan pkh cair min"])

    assert added == HAND_WRITTEN.replace("      - pagi\n", "      - pagi\n      - selamat siang\n")
    assert again.startswith(added.split("responses:")[0])
    assert examples_in(again) == [
        ("ask_payment_schedule", "kapan pkh cair"),
        ("ask_payment_schedule", "pencairan tahap empat"),
        ("greet", "halo bu  # salam"),
        ("greet", "pagi"),
        ("greet", "selamat siang"),
        ("ask_payment_schedule", "kapan pkh cair min"),
    ]
    assert yaml.safe_load(again)["responses"] == {"utter_greet": [{"text": "Halo!"}]}


def test_an_empty_or_missing_file_gets_the_header() -> None:
    assert add_examples("", "greet", ["halo"]).startswith(HEADER)
    assert examples_in(add_examples("", "greet", ["halo"])) == [("greet", "halo")]


@pytest.mark.parametrize("source", ["- just a list\n", "nlu: {a: 1}\n", "version: [\n"])
def test_a_file_that_is_not_rasa_nlu_data_is_refused(source: str) -> None:
    with pytest.raises(ValueError):
        add_examples(source, "greet", ["halo"])
