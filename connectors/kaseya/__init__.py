"""Kaseya: Datto RMM alerts (kind ``datto-rmm``) and Kaseya BMS tickets (kind ``kaseya-bms``).

The two products share an owner, not an API: Datto RMM came from CentraStage
(a Spring service, OAuth 2.0 password grant, 0-based ``page``/``max`` paging),
BMS from Kaseya's own PSA (an ASP.NET service, a JWT from a form login,
``PageNumber``/``PageSize`` paging inside a ``{success, error, result}``
envelope). What they do share lives here: a bearer token fetched and renewed
inside the HTTP client's auth flow (:mod:`connectors.kaseya.auth`) and pacing
by our own count of requests in a sliding window, since neither API reports
its remaining budget in headers (:mod:`connectors.kaseya.pacing`).
"""
