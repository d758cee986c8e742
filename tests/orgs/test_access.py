"""One place for access: ``orgs.access`` answers who may see, unmask and act; the ground
floor (``crm_site/lib``) imports no app, not even inside a function."""

import ast
from pathlib import Path

import pytest

from crm_site.lib import masking as lib_masking
from orgs import access
from orgs.rights import Operation
from tests.factories import person_with_role

from .conftest import fresh

ROOT = Path(__file__).resolve().parents[2]
APPS = {"orgs", "notifications", "leads", "opportunities", "contracts", "reports", "qa"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):  # every import, at module level or inside a function
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_ground_floor_imports_no_app():
    modules = sorted((ROOT / "crm_site" / "lib").glob("*.py"))
    assert len(modules) >= 5
    offenders = {
        f"{path.name} imports {module}"
        for path in modules for module in _imported_modules(path)
        if module.split(".")[0] in APPS or (module.startswith("crm_site.") and not
        module.startswith("crm_site.lib"))
    }
    assert not offenders


def test_the_views_open_through_the_one_entry_check():
    """No view module reaches for a second copy of the entry check."""
    users = [path for path in ROOT.glob("*/**/*.py")
             if ".venv" not in path.parts and "tests" not in path.parts
             and "crm_site.lib.access" in _imported_modules(path)]
    assert [p.relative_to(ROOT).as_posix() for p in users] == ["orgs/access/decorators.py"]


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "operation"), [
    ("list", Operation.UNMASK_LIST), ("detail", Operation.UNMASK_DETAIL),
    ("export", Operation.UNMASK_EXPORT), ("print", Operation.UNMASK_PRINT),
    ("form", Operation.UNMASK_DETAIL), ("admin", Operation.UNMASK_DETAIL),
    ("notification", Operation.UNMASK_LIST), ("import_report", Operation.UNMASK_LIST),
])
def test_each_scenario_needs_its_unmask_right(tree, role, scenario, operation):
    holder = fresh(person_with_role(tree["east"], role(operations=[operation])))
    others = [op for op in access.UNMASK_OPERATION.values() if op != operation]
    other = fresh(person_with_role(tree["east"], role(operations=others)))
    assert access.show(holder, "13812345678", "phone", scenario) == "13812345678"
    assert access.show(other, "13812345678", "phone", scenario) == "138****5678"
    # The pure helpers of the ground floor ask the same rule.
    assert lib_masking.mask_for(holder, "13812345678", "phone", scenario) == "13812345678"
    assert lib_masking.can_unmask(other, scenario) is False


@pytest.mark.django_db
def test_a_form_never_prefills_a_value_the_viewer_may_not_see(tree, role):
    reader = fresh(person_with_role(tree["east"], role(operations=[Operation.UNMASK_LIST])))
    editor = fresh(person_with_role(tree["east"], role(operations=[Operation.UNMASK_DETAIL])))
    assert access.form_placeholder(reader, "13812345678", "phone") == ("", "138****5678")
    assert access.form_placeholder(editor, "13812345678", "phone") == ("13812345678", "")


@pytest.mark.django_db
def test_a_kind_nobody_registered_opens_to_nobody(tree, role):
    viewer = fresh(person_with_role(tree["east"], role(operations=list(Operation.values))))
    assert not access.registered("orgs.Dictionary")
    assert list(access.visible(viewer, "orgs.Dictionary")) == []
