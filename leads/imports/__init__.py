"""The one import pipeline: the job of every kind (``ImportJob``), its runner and lease
(``runner``, run by the ``leads.import_file`` task and swept by ``leads.import_sweep``),
and the lead kind (``lead_kind``: rows checked in ``lead_rows``, written in
``lead_writes``). Other kinds are registered by the apps that own their records; the
parts that know no app are in ``crm_site.lib.imports``.
"""
