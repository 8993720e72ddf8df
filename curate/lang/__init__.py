"""Language helpers: ISO 639 codes for fastText labels, and Unicode script detection."""
