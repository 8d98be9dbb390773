"""Test fixture module: implements every hook of core.hookspecs so that each one is exercised.

It is not pip-installed: ``tests/conftest.py`` puts its folder on ``sys.path``, where
importlib.metadata finds ``crm_fixture-0.1.0.dist-info`` and its ``crm.plugins`` entry point.
"""
