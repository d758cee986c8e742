"""The rules pages of a pool: its policy, members, recycle and routing rules, previews of
what a rule would do, manual runs and extension requests (forms, selectors, services,
views, urls). The engine that applies the rules is ``leads.pools``."""
