"""``curate serve``: a read-only local web app over run folders, ledgers, audits and a registry.

Server-rendered with Starlette and Jinja2 (autoescape on); queries go through Polars scanning
Parquet lazily so a page over a 10M-row output reads only the rows it shows.
"""
