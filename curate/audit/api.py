"""``audit_dataset``: audit a dataset and write ``audit.json``, ``audit.md``, ``audit.html`` and
the charts as PNG files into one folder."""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

from curate.audit.compare import compare_section, headline
from curate.audit.findings import findings
from curate.audit.layout import blocks, charts
from curate.audit.options import AuditOptions, Section
from curate.audit.render import html_page, markdown
from curate.audit.report import Scorer, build_report
from curate.io.dataset import Dataset, open_dataset

log = logging.getLogger(__name__)


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null, so ``audit.json`` is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _write(path: Path, data: bytes) -> None:
    """Write atomically: a reader never sees a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_outputs(report: dict[str, Any], out_dir: Path) -> None:
    """Write the report's files into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = charts(report)
    for name, (_, png) in drawn.items():
        _write(out_dir / name, png)
    layout = blocks(report, set(drawn))
    _write(out_dir / "audit.json", (json.dumps(report, indent=2) + "\n").encode())
    _write(out_dir / "audit.md", markdown(layout).encode())
    page = html_page(layout, drawn, title=f"Bias audit: {report['dataset']}")
    _write(out_dir / "audit.html", page.encode())


def audit_dataset(
    dataset: Dataset | str | Path,
    *,
    out_dir: Path,
    lexicons: Sequence[str] = (),
    toxicity_column: str | None = None,
    toxicity_threshold: float = 0.5,
    removed: Sequence[Path] | None = None,
    compare: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    probe: Path | None = None,
    min_documents: int = 30,
    min_events: int = 10,
    slurs: Literal["separate", "include"] = "separate",
    label_column: str | None = None,
    label_map: dict[str, str] | None = None,
    label_ignore: Sequence[str] = (),
    label_positive: Sequence[str] | None = None,
    sections: Sequence[Section] | None = None,
    text_column: str = "text",
    scorer: Scorer | None = None,
) -> dict[str, Any]:
    """Audit ``dataset`` (a :class:`Dataset` or any DATASET spec) and write the report files.

    Returns the content of ``audit.json``. ``scorer`` replaces the default toxicity model for
    the probe (a function from texts to scores in [0, 1]).
    """
    options = AuditOptions(
        lexicons=list(lexicons),
        toxicity_column=toxicity_column,
        toxicity_threshold=toxicity_threshold,
        removed=list(removed) if removed is not None else None,
        compare=compare,
        sample=sample,
        seed=seed,
        probe=probe,
        min_documents=min_documents,
        min_events=min_events,
        slurs=slurs,
        label_column=label_column,
        label_map=label_map,
        label_ignore=list(label_ignore),
        label_positive=list(label_positive) if label_positive is not None else None,
        **({"sections": list(sections)} if sections is not None else {}),
    )
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset, text_column=text_column)
    name = str(dataset) if not isinstance(dataset, Dataset) else ", ".join(ds.files[:3])
    with tempfile.TemporaryDirectory(prefix="curate-audit-") as tmp:
        report = build_report(ds, options, workdir=Path(tmp), scorer=scorer, name=name)
        if options.compare is not None and "compare" in options.sections:
            keep = [s for s in options.sections if s not in ("filter_impact", "probe", "compare")]
            other_options = options.model_copy(
                update={"removed": None, "probe": None, "compare": None, "sections": keep}
            )
            other_ds = open_dataset(options.compare, text_column=text_column)
            other = build_report(other_ds, other_options, workdir=Path(tmp), name=options.compare)
            report["sections"]["compare"] = compare_section(
                headline(report), headline(other), other_name=options.compare
            )
            report["compare"] = report["sections"]["compare"]
    report["findings"] = findings(report, min_documents=options.min_documents)
    report = cast(dict[str, Any], _json_safe(report))
    write_outputs(report, Path(out_dir))
    log.info("audit written to %s", out_dir)
    return report
