"""The workflow's plumbing: the config's checks (``workflow_config``) and the frozen plan the
rules read (``plan``), the variants' names (``variants``), config/README.md from the schema
(``config_reference``), files handed between jobs (``integrity``), what a run records about
its machine and commit (``provenance``), importing the checkout's own package in every job
(``checkout``) and a one-node SLURM cluster for trying the profile (``slurm_cluster``).

Nothing is imported here.
"""
