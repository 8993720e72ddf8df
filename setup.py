"""Package list for setuptools; everything else is in pyproject.toml.

pyproject.toml cannot combine package discovery with a package mapped from another folder, so
the list is built here: every ``curate*`` package, plus ``audits/`` (lexicons and audit
definitions, kept at the top of the repository) installed as the data package ``curate._audits``,
and the serve app's templates and static files, data-only folders setuptools would otherwise
warn about.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["curate*"]),
        "curate.serve.templates",
        "curate.serve.static",
        "curate._audits",
        "curate._audits.lexicons",
    ],
    package_dir={"curate._audits": "audits"},
)
