"""Reports people attach to a contract review or hand to the next shift.

``scorecard_table``     a scorecard as flat rows (CSV, JSON, ``export --what scorecard``)
``svg_chart``           small inline SVG charts (no script, no network)
``scorecard_markdown``  the scorecard as Markdown
``scorecard_html``      the scorecard as one self-contained HTML file
``handover_text``       the shift handover as Markdown or JSON
``writers``             which format writes what
"""
