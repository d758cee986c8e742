"""How leads come in: the duplicate check and collision policy of every channel
(``collision``) and the ingest API of marketing channels (``api``). File import lives in
``leads.importer``."""
