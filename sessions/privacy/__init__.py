"""A shopper's privacy rights and the brand's duties: export, erasure, consent to keep a
consultation's media, retention periods enforced by the scheduler, and the staff audit log.

docs/privacy.md describes each; ``tables.py`` says, for every table that can hold
something about a shopper, what the export shows and what the erasure does."""
