"""Measuring the implementation itself: the step benchmark (``benchmark``, ``timing``), the
modelled memory of a step (``memory``), what a config costs in GPU-hours (``cost``),
mutmut's results per module (``mutation``) and the stages of `make gpu-check` (``gpu_check``).

Nothing is imported here.
"""
