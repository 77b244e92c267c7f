"""The losses, one module per family: ``regression``, ``likelihood``, ``divergence``,
``categorical``, ``binary``, ``multilabel``, ``embedding``, ``triplet``, ``sequence``.

Each loss is a forward returning ``(value, pullback)`` written on the array API;
``losskit._core.gradients.differentiable`` publishes the value-only function.
"""
