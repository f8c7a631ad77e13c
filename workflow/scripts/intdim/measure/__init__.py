"""Measuring the implementation itself: the step benchmark (``benchmark``, ``timing``), the
modelled memory of a step (``memory``), what a config costs in GPU-hours (``cost``) and
mutmut's results per module (``mutation``).

Nothing is imported here.
"""
