"""The bias audit: who a dataset mentions, how toxic that text is, and what filtering removed.

One streaming pass over the dataset computes seven sections (composition, representation,
association, harm, filter impact, scorer probe, comparison); see ``docs/audit.md``. The run
calls :func:`audit_dataset` when a recipe has an ``audit:`` block, validated by
:class:`AuditOptions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curate.audit.options import AuditOptions

if TYPE_CHECKING:
    from curate.audit.api import audit_dataset

__all__ = ["AuditOptions", "audit_dataset"]


def __getattr__(name: str) -> Any:
    # The report pulls in matplotlib; recipe validation only needs AuditOptions.
    if name == "audit_dataset":
        from curate.audit.api import audit_dataset

        return audit_dataset
    raise AttributeError(name)
