"""Metrics the customer owns: scorecards, shift handover, time travel.

``periods``      calendar periods (months by default) in the operator's zone
``instants``     the instants and spans an operator types (``:at …``, ``--since 8h``)
``figures``      every scorecard figure: its name, unit, better direction, one-sentence definition
``scorecard``    a period's scorecard with the previous period and a twelve-period trend
``handover``     the shift handover report (what changed, what is coming)

The SQL lives in the store (``paneglass.store.scorecards``, ``handovers``,
``as_of``): these modules shape what the store returns for screens and reports.
"""
