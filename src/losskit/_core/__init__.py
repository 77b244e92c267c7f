"""The core: knows no loss by name.

``namespace`` (the only module that imports array-api-compat), ``indexing`` (class-axis
selection on every backend), ``blocks`` (the NumPy blockwise path), ``stable`` (stable
softplus, log-sigmoid, log-sum-exp, log-softmax), ``reduction`` (the one place reductions are
interpreted), ``validation`` (checks and error wording), ``elementwise`` (the shared body of
elementwise losses) and ``gradients`` (``value_and_grad`` and the registry of pullbacks).
"""
