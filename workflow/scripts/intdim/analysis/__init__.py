"""What finished runs mean: d90 from sweeps (``d90``) and binary searches (``search``), the
paper's findings and their trends (``findings``, ``trend``), Section 5's tables and
compression bound (``section5``, ``bound``), the projection study's table
(``projection_study``) and the reports: the landing page (``summary``), a run's Markdown
report (``run_report``) and where its time went (``run_time``).

These modules need pandas and numpy, not torch, except ``bound``'s evaluation (imported
when it runs). Nothing is imported here.
"""
