"""Test support for users' own suites, above the apps (it may use several of them):
the pytest plugin with performance budgets (``perfsuite.testing.pytest_plugin``)."""
