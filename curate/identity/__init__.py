"""Identity-group mentions: lexicons and a vectorised matcher.

``score.identity`` and the bias audit both use this package:

>>> from curate.identity import IdentityMatcher, load_lexicons
>>> matcher = IdentityMatcher(load_lexicons(["en"]))
>>> matcher.match(["My sister converted to Islam."])[0]
[['gender/female', 'religion/muslim']]
"""

from __future__ import annotations

from curate.identity.lexicon import (
    CORE_AXES,
    Lexicon,
    Term,
    builtin_dir,
    builtin_names,
    load_lexicon,
    load_lexicons,
)
from curate.identity.matcher import IdentityMatcher

__all__ = [
    "CORE_AXES",
    "IdentityMatcher",
    "Lexicon",
    "Term",
    "builtin_dir",
    "builtin_names",
    "load_lexicon",
    "load_lexicons",
]
