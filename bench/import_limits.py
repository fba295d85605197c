"""What the worst catalog input that is still accepted costs, and what refusing the rest costs.

    .venv/bin/python bench/import_limits.py [--repeat 5]

In-process, no database: the checks and parsers an import or an editor save runs (rich-text limits and nh3,
the whole document, the rubric CSV, the JSON loader). Each line is the median of ``--repeat`` runs, with the
slowest run beside it. The "before" line runs nh3 on what was accepted before the limits (20,000 nested list
items). Figures go in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lti_tool.catalog import document as doc  # noqa: E402
from lti_tool.catalog import richtext, rubric_csv  # noqa: E402
from lti_tool.errors import BadRequest  # noqa: E402
from tests.support import catalog_docs  # noqa: E402

HEADER = "criterion,description,level,descriptor,demonstrated\n"


def fill(unit: str, size: int = richtext.MAX_CHARS) -> str:
    return unit * (size // len(unit))


def deepest_accepted_html() -> str:
    """Lists 20 levels deep (the limit), repeated up to the size cap: nh3's worst case that passes."""
    depth = richtext.MAX_DEPTH // 2
    return fill("<ul><li>" * depth + "x" + "</li></ul>" * depth)


def worst_document() -> str:
    html = deepest_accepted_html()
    task = catalog_docs.mc()["tasks"][0]
    tasks = [dict(task, key=f"t{i}", instructions=html) for i in range(10)]  # the schema's maxItems
    data = catalog_docs.mc(**{name: html for name in doc.HTML_FIELDS_MC}, tasks=tasks)
    return json.dumps(data, indent=2)


def largest_rubric_csv() -> str:
    cell = "x" * 900  # MAX_ROWS rows of ~1 KB: the 2 MB upload cap
    return HEADER + "".join(f"Criterion {i},{cell},Demonstrated,ok,yes\n" for i in range(rubric_csv.MAX_ROWS))


def refused(call):
    try:
        call()
    except BadRequest:
        return
    raise AssertionError("expected a refusal")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    html, document, csv_text = deepest_accepted_html(), worst_document(), largest_rubric_csv()
    assert richtext.problem(html) is None and doc.parse_text(document)
    two_mb_json = json.dumps([[[1, 2, 3]]] * 90_000)  # ~2 MB, every value in small nested lists
    cases = [
        ("before: nh3 on 20,000 nested <ul><li> (160 KB, now refused)",
         lambda: richtext.sanitize("<ul><li>" * 20_000), 1),
        (f"one HTML field at the caps ({len(html):,} chars, {richtext.MAX_DEPTH} deep): check + nh3",
         lambda: richtext.sanitize(html) if richtext.problem(html) is None else None, args.repeat),
        ("refusing a 2 MB field of nested <ul> (size check only)",
         lambda: richtext.problem("<ul>" * 500_000), args.repeat),
        ("refusing 16,380 chars of nested <ul> (depth check stops at 21)",
         lambda: richtext.problem(fill("<ul>")), args.repeat),
        (f"whole document, 15 HTML fields at the caps ({len(document) / 1e6:.2f} MB): parse_text",
         lambda: doc.parse_text(document), args.repeat),
        (f"rubric CSV at the row cap ({rubric_csv.MAX_ROWS:,} rows, {len(csv_text) / 1e6:.1f} MB): parse",
         lambda: rubric_csv.parse(csv_text), args.repeat),
        (f"refusing {len(two_mb_json) / 1e6:.1f} MB of small lists ({doc.MAX_JSON_VALUES:,} values at most)",
         lambda: refused(lambda: doc.parse_text(two_mb_json)), args.repeat),
        ("refusing a 2 MB document whose topics list holds 400,000 names",
         lambda: refused(lambda: doc.parse_text(json.dumps(catalog_docs.mc(topics=["a"] * 400_000)))), args.repeat),
        ("refusing JSON nested 100,000 deep", lambda: refused(lambda: doc.parse_text("[" * 100_000)), args.repeat),
    ]
    print(f"python {sys.version.split()[0]}; median of {args.repeat} (slowest)")
    for label, call, repeat in cases:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        print(f"{statistics.median(times) * 1000:9.1f} ms ({max(times) * 1000:.1f})  {label}")


if __name__ == "__main__":
    main()
