"""Each catalog list costs the same number of queries however large the catalog grows (no query per item)."""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event, select

from lti_tool.catalog import offer
from lti_tool.catalog.models import SchoolOffering, Stack
from lti_tool.lti.roles import Role
from lti_tool.people.models import School
from tests.support import catalog_docs


@contextlib.contextmanager
def counted(app):
    """Count the statements the app's engine sends while the block runs."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _grow(session, district_id: int, school_id: int, tag: str, size: int) -> None:
    """``size`` more published MCs (every other one with a newer draft) in a stack the school offers."""
    mcs = [catalog_docs.mc(f"{tag}-{i}", title=f"Grown {tag} {i}") for i in range(size)]
    catalog_docs.load(session, district_id, *mcs, catalog_docs.stack(f"{tag}-stack", [m["slug"] for m in mcs]))
    drafts = [dict(m, version=2, title=f"Draft of {m['slug']}") for m in mcs[::2]]  # titles are unique
    catalog_docs.load(session, district_id, *drafts, publish=False)
    stack = session.scalar(select(Stack).where(Stack.slug == f"{tag}-stack"))
    session.add(SchoolOffering(school_id=school_id, stack_id=stack.id))
    session.commit()


@pytest.fixture
def school(session, district):
    les = session.scalar(select(School).where(School.district_id == district.id, School.code == "LES"))
    _grow(session, district.id, les.id, "small", 2)
    return les


PAGES = {
    "catalog for a teacher": ({Role.TEACHER}, {}, "/catalog/"),
    "the school's offer": (set(), {"school_admin": True}, "/catalog/offer"),
    "manage": ({Role.DISTRICT_ADMIN}, {}, "/catalog/manage"),
    "stack editor": ({Role.DISTRICT_ADMIN}, {}, "/catalog/manage/stack/small-stack"),
    "stack editor, new stack": ({Role.DISTRICT_ADMIN}, {}, "/catalog/manage/stack"),
}


@pytest.mark.parametrize("page", PAGES)
def test_list_pages_cost_the_same_queries_as_the_catalog_grows(app, session, district, sign_in, school, page):
    roles, options, path = PAGES[page]
    client = sign_in(roles, school_id=school.id, **options)
    assert client.get(path).status_code == 200  # first request of the app: caches filled

    def cost() -> int:
        with counted(app) as statements:
            response = client.get(path)
        assert response.status_code == 200
        return len(statements)

    small = cost()
    _grow(session, district.id, school.id, "grown", 30)
    assert cost() == small, f"{page}: one more query per item"


def test_the_deep_linking_picker_costs_the_same_queries_as_the_catalog_grows(app, session, district, sign_in,
                                                                              school):
    instructor = sign_in({Role.FACILITATOR}, school_id=school.id).actor

    def cost() -> int:
        session.expire_all()  # each count starts from the database, as a request does
        with counted(app) as statements:
            offer.catalog_for(session, instructor)
        return len(statements)

    small = cost()
    _grow(session, district.id, school.id, "grown", 30)
    assert cost() == small
