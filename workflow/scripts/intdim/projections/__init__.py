"""Random linear maps P: R^d -> R^D, in three kinds of module:

* ``base``: the interface every projection implements, SAID's segments and the autograd
  functions (``project``, ``shift``); no implementation;
* ``registry``: every projection by name, its classes by backend, its options, and
  ``make_projection``; it imports neither torch nor any implementation, so the workflow's
  controller can check a config against it;
* ``dense``, ``sparse``: the two that are not Fastfood (``intdim.fastfood`` holds Fastfood).

Nothing is imported here, so importing one part never imports the others.
"""
