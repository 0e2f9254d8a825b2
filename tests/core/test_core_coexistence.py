"""Installing ams-billing must not change the test run of a project that owns ``ams``.

The AMS is such a project: a regular package ``ams`` at its root, put on the path by its test
settings after pytest has loaded its plugins, ours (the ``pytest11`` entry point) among them.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_a_projects_own_ams_package_still_imports_under_pytest(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\npythonpath = .\n")
    pytester.mkpydir("ams")
    pytester.mkpydir("ams/users")
    pytester.makepyfile(**{"ams/users/models": "USER = 'ada'\n"})
    pytester.makepyfile(
        test_project="""
        import ams.users.models

        def test_the_projects_module_imports():
            assert ams.users.models.USER == "ada"
        """
    )
    # A subprocess, so plugins load from their entry points exactly as in the project's CI.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "ams_billing" in pytester.runpytest_subprocess("--trace-config").stdout.str()
