"""The method: a model trained in a random subspace (``subspace``), its training and
evaluation loop (``training``, ``optimisation``, ``precision``), the models and data it
trains on (``models``, ``data``), pre-training from scratch (``pretraining``) and task files
(``export``). The projections themselves live in ``intdim.projections`` and
``intdim.fastfood``.

Nothing is imported here, so importing one part never imports the others.
"""
