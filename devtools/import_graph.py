"""Print the import graph between the project's top-level packages, and the arrows that run up.

`python -m devtools.import_graph [CHECKOUT]` reads CHECKOUT (default: this one) with grimp, the
graph library behind import-linter, so it also draws an older commit checked out elsewhere
(`git worktree add /tmp/before <commit>`). Layers are listed top down, as in pyproject.toml's
import-linter contract; an arrow from a lower layer to a higher one is marked UP.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import grimp

# Top down; devtools (emulator, benchmarks) stands beside the command line, above the product.
RANK = {"pkh": 0, "devtools": 0, "bot": 1, "admin": 1, "actions": 2, "programme": 3, "nlu": 4}
RANK["core"] = 5


def package_imports(checkout: Path) -> Counter[tuple[str, str]]:
    """(importer, imported) top-level package pairs and how many module imports make each."""
    packages = sorted(
        p.name for p in checkout.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"
    )
    sys.path.insert(0, str(checkout))
    graph = grimp.build_graph(*packages, cache_dir=None)
    arrows: Counter[tuple[str, str]] = Counter()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            source, target = importer.split(".")[0], imported.split(".")[0]
            if source != target:
                arrows[(source, target)] += 1
    return arrows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", nargs="?", type=Path, default=Path.cwd())
    arrows = package_imports(parser.parse_args().checkout.resolve())
    upward = 0
    for (source, target), count in sorted(
        arrows.items(), key=lambda item: (RANK.get(item[0][0], 9), item[0])
    ):
        up = RANK.get(source, 9) > RANK.get(target, 9)
        upward += up
        print(f"{source:>10} -> {target:<10} {count:>4} imports{'   UP' if up else ''}")
    print(f"{len(arrows)} arrows between packages, {upward} running up the layers")


if __name__ == "__main__":
    main()
