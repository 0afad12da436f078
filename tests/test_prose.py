"""The chapters' prose: numbers come from cells (glued) or are marked as the textbook's; depth floors.

A number in prose that one of our cells computed must be written ``{glue:text}`key:.2f``` (stored by
``bu.glue("key", value)`` in that cell); a number quoted from the printed textbook is written
``{textbook}`87%```. ``python tests/prose.py [chNN]`` lists what these tests look at.
"""

from __future__ import annotations

import re

import pytest

from prose import (
    CHAPTERS,
    MIN_LEAF_CJK,
    MIN_RATIO,
    TEXTBOOK_CJK,
    chapter_volume,
    glue_roles,
    glued_keys,
    load,
    markdown_cells,
    short_leaf_sections,
    stray_numbers,
)

# Chapters whose text pass (issues 19 and 20) has not landed yet: their prose checks are expected to
# fail. A chapter leaves this set in the commit that lands its re-executed text.
PENDING: set[str] = set()


def _param(path):
    prefix = path.stem.split("_")[0]
    marks = [pytest.mark.xfail(reason="text pass pending (issues 19/20)", strict=False)] if prefix in PENDING else []
    return pytest.param(path, id=path.stem, marks=marks)


PARAMS = [_param(p) for p in CHAPTERS]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in CHAPTERS])
def test_glue_roles_have_values(path):
    nb = load(path)
    missing = sorted(set(glue_roles(nb)) - glued_keys(nb))
    assert not missing, f"{path.name}: prose uses glue keys no cell stored: {missing} (re-execute the chapter?)"


@pytest.mark.parametrize("path", PARAMS)
def test_no_stray_numbers(path):
    hits = stray_numbers(load(path))
    assert not hits, (
        f"{path.name}: result-like numbers in prose that are neither glued nor marked "
        "{textbook}:\n" + "\n".join(f"  …{h}…" for h in hits)
    )


@pytest.mark.parametrize("path", PARAMS)
def test_leaf_sections_teach(path):
    short = short_leaf_sections(load(path))
    assert not short, f"{path.name}: numbered leaf sections under {MIN_LEAF_CJK} CJK characters of prose: {short}"


@pytest.mark.parametrize("path", [p for p in PARAMS if p.values[0].stem.split("_")[0] in TEXTBOOK_CJK])
def test_prose_volume(path):
    prefix = path.stem.split("_")[0]
    ratio = chapter_volume(load(path)) / TEXTBOOK_CJK[prefix]
    assert ratio >= MIN_RATIO, f"{path.name}: prose is {ratio:.0%} of the textbook chapter's (floor {MIN_RATIO:.0%})"


def test_scanner_catches_known_defects():
    """The defects the review listed (issue 19) are exactly what the scanner must flag."""
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "这正是真实模型 $y = 1.477x + 0.089$。准确率从 87% 左右提升。"},
            {"cell_type": "markdown", "source": "在 CPU 上需要二十分钟左右；稳定在 98% 左右。"},
            {
                "cell_type": "markdown",
                "source": "教材报告 {textbook}`87.25%`，本书 {glue:text}`acc:.2%`，见 5.8 节与图 2.5。",
            },
            {"cell_type": "code", "source": "y = 1.477 * x + 0.089\nlr = 0.01", "outputs": []},
        ]
    }
    hits = " | ".join(stray_numbers(nb))
    for defect in ("1.477", "87%", "二十分钟", "98%"):
        assert defect in hits, f"scanner missed {defect!r}: {hits}"
    assert "87.25" not in hits and "5.8" not in hits and "2.5" not in hits


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in CHAPTERS])
def test_no_bare_pipe_in_table_maths(path):
    """A '|' inside $...$ in a Markdown table row ends the cell (write \\vert or \\lvert/\\rvert)."""
    bad = [
        line
        for md in markdown_cells(load(path))
        for line in md.splitlines()
        if line.lstrip().startswith("|") and any("|" in m.group(1) for m in re.finditer(r"\$([^$]*)\$", line))
    ]
    assert not bad, f"{path.name}: table rows with '|' inside maths: {bad}"
