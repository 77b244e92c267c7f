"""What the test suite and ``losskit check`` share: ``case`` (one parity case and its id),
``grid`` (the cases of every loss), ``oracle`` (torch's values and gradients), ``backends``
(moving NumPy data in and out of each array library) and ``check`` (comparing the two)."""
