"""Shared machinery of the suite: settings, metrics, stores, timing context, panels.

``perfsuite.core`` is not a Django app and has no models. The apps meet here and
nowhere else: they never import each other.
"""
