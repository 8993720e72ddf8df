"""Data files curate reads at run time; the build installs this folder as ``curate._audits``."""
