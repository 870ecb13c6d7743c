"""CF-1.11 and ACDD-1.3 compliance of a written file, by the IOOS compliance-checker.

Use from any test::

    from cfcheck import assert_cf_compliant
    assert_cf_compliant(tmp_path / "cube.nc")

The check runs :meth:`compliance_checker.runner.ComplianceChecker.run_checker`
with the checkers ``cf:1.11`` and ``acdd:1.3`` and JSON output, then fails
listing every high-priority (error-level, weight 3) result that did not score
full points, with the checker's own messages.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

CHECKERS = ("cf:1.11", "acdd:1.3")
HIGH_PRIORITY = 3


def compliance_failures(path: str | Path, checkers: tuple[str, ...] = CHECKERS) -> list[str]:
    """Return one line per high-priority failure of ``path`` (empty when compliant).

    Parameters
    ----------
    path
        A NetCDF file.
    checkers
        compliance-checker checker names with versions, e.g. ``"cf:1.11"``.
    """
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        _passed, checker_errors = ComplianceChecker.run_checker(
            str(path),
            list(checkers),
            verbose=0,
            criteria="strict",
            output_filename=str(report),
            output_format="json",
        )
        results = json.loads(report.read_text(encoding="utf-8"))
    failures = []
    if checker_errors:
        failures.append(f"compliance-checker raised errors while checking {path}")
    for checker, result in results.items():
        for item in result.get("high_priorities", []):
            if item["weight"] < HIGH_PRIORITY:
                continue
            scored, possible = item["value"]
            if scored < possible:
                msgs = "; ".join(str(m) for m in item.get("msgs", [])) or "(no message)"
                failures.append(f"[{checker}] {item['name']}: {msgs}")
    return failures


def assert_cf_compliant(path: str | Path, checkers: tuple[str, ...] = CHECKERS) -> None:
    """Fail with every high-priority CF-1.11/ACDD-1.3 failure of ``path`` listed."""
    failures = compliance_failures(path, checkers)
    assert not failures, f"{path} is not CF/ACDD compliant:\n" + "\n".join(failures)
