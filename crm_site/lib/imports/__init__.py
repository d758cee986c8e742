"""File imports, the parts that know no app: reading hostile CSV/XLSX files within limits,
mapping columns to fields, the registry of import kinds and the batch runner of record
kinds.

Each app registers the kinds of record it owns in ``AppConfig.ready()``
(``register_kind``); the leads app keeps the one job model, runner and task
(``leads.imports``) and serves every kind through them.
"""
