"""Screenshots of every ``curate serve`` page, for docs/serve.md.

    python scripts/serve_screenshots.py            # writes docs/images/serve/*.png

It builds a small demo first, all with real commands on the repository's sample corpus: the
quickstart recipe run twice (the second time with a stricter length filter) and published as
``quickstart`` 1.0.0 and 1.1.0, then an English-only dataset made from ``quickstart@1.1.0``
(so the lineage graph has an edge). 1.1.0 is tagged ``stable`` and 1.0.0 yanked. The app is
served on a loopback port and Debian's Chromium (``/usr/bin/chromium``, driven by Playwright)
takes a full-page screenshot of each page (:func:`run_pages`, :data:`REGISTRY_PAGES`).
Takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

#: Registry pages: (file name, path on the server).
REGISTRY_PAGES: list[tuple[str, str]] = [
    ("registry", "/registry"),
    ("registry-versions", "/registry/quickstart"),
    ("registry-version", "/registry/quickstart/1.1.0"),
    ("registry-lineage", "/registry/quickstart-en/1.0.0/lineage"),
    ("registry-diff", "/registry/-/diff?a=quickstart%401.1.0&b=quickstart-en%401.0.0"),
    ("registry-verify", "/registry/quickstart/1.1.0/verify"),
]


#: Sections of long pages shot on their own, below the top of the page: (file name, page
#: file name, element id). The top of the audit shows the summary and the composition; the
#: groups and the filter impact, what the audit is for, come further down.
SECTIONS: list[tuple[str, str, str]] = [
    ("run-audit-representation", "run-audit", "representation"),
    ("run-audit-filter-impact", "run-audit", "filter_impact"),
]


#: The page offset of an element, less a margin, for a screenshot that starts at its heading.
TOP_OF = "id => document.getElementById(id).getBoundingClientRect().top + scrollY - 12"


def run_pages(run: Path, key: str) -> list[tuple[str, str]]:
    """The pages of one run; the document page shows its first near-duplicate."""
    import polars as pl

    ledger = pl.concat(
        [pl.read_parquet(f) for f in sorted((run / "curate" / "removed").glob("*.parquet"))],
        how="diagonal_relaxed",
    )
    near = ledger.filter(pl.col("stage") == "dedup.minhash").get_column("id")[0]
    base = f"/run/{key}"
    return [
        ("runs", "/"),
        ("run-report", f"{base}/report"),
        ("run-card", f"{base}/card"),
        ("run-audit", f"{base}/audit"),
        ("ledger", f"{base}/browse?source=removed&stage=dedup.minhash&size=20"),
        ("data", f"{base}/browse?source=kept&lang=en&col=toxicity&lo=0.05&size=20"),
        ("document", f"{base}/doc?id={quote(near, safe='')}"),
        ("whatif", f"{base}/whatif?column=toxicity&direction=at_or_above&threshold=0.1"),
    ]


#: Long pages (the audit, the card) are cut at this height: the top shows what the page is,
#: and :data:`SECTIONS` shows the parts further down.
MAX_HEIGHT = 2400

STRICT = ("quality_word_count >= 5", "quality_word_count >= 40")


def curate(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "curate", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"curate {' '.join(args)} failed:\n{done.stderr}")


def build_demo(work: Path) -> tuple[Path, Path]:
    """Run folders under ``work/runs`` and a registry at ``work/registry``."""
    runs, reg = work / "runs", work / "registry"
    env = {**os.environ, "CURATE_REGISTRY": str(reg)}
    shared_lid = ROOT.parent / "shared" / "data" / "fasttext-lid176" / "lid.176.ftz"
    if "CURATE_LID_MODEL" not in env and shared_lid.is_file():
        env["CURATE_LID_MODEL"] = str(shared_lid)  # no download when the reference data is here
    quickstart = (ROOT / "recipes" / "quickstart.yaml").read_text(encoding="utf-8")
    first = runs / "quickstart"
    curate("run", "recipes/quickstart.yaml", "-o", str(first), env=env)
    curate("publish", str(first), "quickstart", env=env)
    strict = work / "quickstart-strict.yaml"
    strict.write_text(quickstart.replace(*STRICT), encoding="utf-8")
    second = runs / "quickstart-strict"
    curate("run", str(strict), "-o", str(second), env=env)
    curate("publish", str(second), "quickstart", env=env)
    english = work / "quickstart-en.yaml"
    english.write_text(
        "name: quickstart-en\n"
        "description: The English documents of the quickstart sample.\n"
        "input: {path: quickstart@1.1.0}\n"
        "stages:\n"
        "  - use: filter\n"
        "    with: {where: \"lang = 'en'\", reason: not-english}\n"
        f"output: {{path: '{runs / 'quickstart-en'}'}}\n"
        "card: {pretty_name: curate quickstart sample (English), license: cc0-1.0}\n",
        encoding="utf-8",
    )
    curate("run", str(english), env=env)
    curate("publish", str(runs / "quickstart-en"), "quickstart-en", env=env)
    curate("registry", "tag", "quickstart@1.1.0", "stable", env=env)
    curate("registry", "yank", "quickstart@1.0.0", "--reason", "superseded by 1.1.0", env=env)
    return runs, reg


def shoot(runs: Path, reg: Path, out: Path, *, width: int) -> list[Path]:
    from serve_harness import chromium, live_server

    from curate.serve.app import create_app

    app = create_app(roots=[runs], registry=str(reg))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    pages = run_pages(runs / "quickstart", "0/quickstart") + REGISTRY_PAGES
    with live_server(app) as server, chromium(server.url, width=width, height=800) as browser:
        page = browser.page()
        for name, path in pages:
            response = page.goto(server.url + path)
            if response is None or response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status if response else 'no answer'}")
            full = page.evaluate("document.documentElement.scrollHeight")
            shots = [(name, 0)] + [
                (shot, page.evaluate(TOP_OF, anchor)) for shot, of, anchor in SECTIONS if of == name
            ]
            for shot, top in shots:
                target = out / f"{shot}.png"
                clip = {"x": 0, "y": top, "width": width, "height": min(full - top, MAX_HEIGHT)}
                page.screenshot(path=str(target), full_page=True, clip=clip)
                written.append(target)
        problems = browser.console_errors + browser.dialogs + browser.blocked
    if problems:
        raise SystemExit("the pages reported problems:\n" + "\n".join(problems))
    return written


def check_fonts() -> None:
    """Warn when no CJK font is installed: Chromium would draw the sample's Chinese and
    Japanese documents as empty boxes."""
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not found.strip():
        print("warning: no CJK font (apt-get install fonts-noto-cjk); CJK text shows as boxes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "serve")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in pixels")
    args = parser.parse_args()
    check_fonts()
    # A fixed folder, so the paths the pages show stay the same from one set of shots to the next.
    work = Path(tempfile.gettempdir()) / "curate-serve-demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        runs, reg = build_demo(work)
        for path in shoot(runs, reg, args.out, width=args.width):
            print(re.sub(r"^" + re.escape(str(ROOT)) + "/", "", str(path)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
