"""Catalog workflows: import/export, drafts, publishing, retiring, district rules.

Plain functions over a session and an actor; each checks permission first, scopes every query by the
actor's district, changes rows, flushes and never commits. Every change writes an audit event. District
IT's commands act as ``Actor.for_system``, which may import and publish (how a district is seeded and
repaired), nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lti_tool import audit
from lti_tool.catalog import document as doc
from lti_tool.catalog import rubric_csv, rules
from lti_tool.catalog.models import McVersion, MicroCredential, Stack, StackVersion, Status, VersionState
from lti_tool.catalog.policy import DEFAULTS, LIMITS, district_policy
from lti_tool.db import utcnow
from lti_tool.errors import BadRequest, Conflict, Forbidden, NotFound
from lti_tool.lti.actor import Actor

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a catalog document or a rubric CSV; the samples are under 20 KB
Upload = tuple[str, BinaryIO]        # a file's name and its stream, as a form sent it


def require_catalog_admin(actor: Actor, *, operator: bool = False) -> None:
    """District admins change the catalog; with ``operator``, so does Microcred's system actor (district
    IT's commands import and publish)."""
    if operator and actor.is_system:
        return
    if not actor.is_district_admin or actor.test_user:
        raise Forbidden(_l("Only a district administrator can change the catalog."))


# --- lookups -------------------------------------------------------------------------------------------

def get_mc(session: Session, actor: Actor, slug: str) -> MicroCredential:
    """The actor's district's MC ``slug`` (another district's is "not found")."""
    mc = session.scalar(select(MicroCredential).where(MicroCredential.district_id == actor.district_id,
                                                      MicroCredential.slug == slug))
    if mc is None:
        raise NotFound(f"No micro-credential '{slug}' in this district.")
    return mc


def get_stack(session: Session, actor: Actor, slug: str) -> Stack:
    stack = session.scalar(select(Stack).where(Stack.district_id == actor.district_id, Stack.slug == slug))
    if stack is None:
        raise NotFound(f"No stack '{slug}' in this district.")
    return stack


def draft_version(item: MicroCredential | Stack) -> McVersion | StackVersion | None:
    return next((v for v in reversed(item.versions) if v.state == VersionState.DRAFT), None)


SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


def sample_sources() -> list[tuple[str, str]]:
    """The sample catalog shipped with Microcred (used by the demo and the tests)."""
    return [(path.name, path.read_text(encoding="utf-8")) for path in sorted(SAMPLE_DIR.glob("*.json"))]


def read_upload(upload: Upload, what: str = "file") -> str:
    """An uploaded text file, at most ``MAX_UPLOAD_BYTES``, as UTF-8 text."""
    name, stream = upload
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadRequest(_l("%(name)s is larger than 2 MB; a rubric is much smaller.", name=name) if what == "rubric"
                         else _l("%(name)s is larger than 2 MB; a catalog document is much smaller.", name=name))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(_l("%(name)s is not UTF-8 text.", name=name)) from error


# --- import / export -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    created: tuple[str, ...]
    unchanged: tuple[str, ...]


def import_uploads(session: Session, actor: Actor, uploads: list[Upload], publish: bool) -> ImportResult:
    """The import page: uploaded catalog JSON files, read and imported as ``import_texts`` does."""
    require_catalog_admin(actor)
    if not uploads:
        raise BadRequest(_l("Choose one or more catalog JSON files to import."))
    return import_texts(session, actor, [(name, read_upload((name, stream), "catalog document"))
                                         for name, stream in uploads], publish=publish)


def import_texts(session: Session, actor: Actor, sources: Iterable[tuple[str, str]],
                 publish: bool = True) -> ImportResult:
    """Import catalog documents into the actor's district, all or nothing. Idempotent by slug + version: the
    same document again is "unchanged"; a different document under an existing slug and version is refused."""
    require_catalog_admin(actor, operator=True)
    parsed = [doc.parse_text(text, source) for source, text in sources]
    created, unchanged = [], []
    with session.begin_nested():  # a savepoint: a refused document undoes the whole batch
        for item in sorted(parsed, key=lambda d: isinstance(d, doc.StackDocument)):
            outcome = _import_one(session, actor, item, publish)
            (created if outcome else unchanged).append(f"{'stack' if isinstance(item, doc.StackDocument) else 'mc'}:"
                                                       f"{item.slug}@{item.version}")
        rules.check_references(session, actor.district_id, parsed)
        rules.check_titles(session, actor.district_id, parsed)
    return ImportResult(tuple(created), tuple(unchanged))


def _import_one(session: Session, actor: Actor, parsed, publish: bool) -> bool:
    is_stack = isinstance(parsed, doc.StackDocument)
    model, version_model = (Stack, StackVersion) if is_stack else (MicroCredential, McVersion)
    item = session.scalar(select(model).where(model.district_id == actor.district_id, model.slug == parsed.slug))
    if item is None:
        item = model(district_id=actor.district_id, slug=parsed.slug, status=Status.DRAFT)
        session.add(item)
        session.flush()
    existing = next((v for v in item.versions if v.number == parsed.version), None)
    if existing is not None:
        if doc.dump(existing.document) == doc.dump(parsed.raw):
            return False
        raise doc.DocumentError([f"version {parsed.version} of '{parsed.slug}' already exists with different "
                                 "content: give the changed document a higher version number"], parsed.slug)
    if item.versions and parsed.version < max(v.number for v in item.versions):
        raise doc.DocumentError([f"'{parsed.slug}' already has a version newer than {parsed.version}"], parsed.slug)
    version = version_model(number=parsed.version, **rules.columns(parsed))
    item.versions.append(version)
    session.flush()
    audit.record(session, action=f"{'stack' if is_stack else 'mc'}.imported", subject_type=model.__tablename__,
                 subject_id=item.id, district_id=actor.district_id, actor_user_id=actor.user_id,
                 after={"slug": parsed.slug, "version": parsed.version})
    if publish:
        _publish(session, actor, item, version)
    return True


def prerequisite_graph(session: Session, actor: Actor) -> dict[str, tuple[str, ...]]:
    """Each MC's prerequisites in the actor's district, from its newest version (draft or published)."""
    return rules.prerequisite_graph(session, actor.district_id)


def export_text(session: Session, actor: Actor, kind: str, slug: str, number: int | None = None) -> str:
    """The canonical document of a version (the published one, else the newest)."""
    require_catalog_admin(actor)
    if kind not in ("mc", "stack"):
        raise NotFound(_l("Export a micro-credential ('mc') or a stack ('stack')."))
    item = get_stack(session, actor, slug) if kind == "stack" else get_mc(session, actor, slug)
    version = (next((v for v in item.versions if v.number == number), None) if number
               else item.published or item.versions[-1])
    if version is None:
        raise NotFound(_l("'%(slug)s' has no version %(number)s.", slug=slug, number=number))
    return doc.dump(version.document)


class SlugTaken(Conflict):
    """A new micro-credential under a short name the district already uses."""


# --- editing and publishing ----------------------------------------------------------------------------

def lock_token(version: McVersion | StackVersion | None) -> str:
    """What an editor sends back to say which row it loaded: version number and that row's lock counter."""
    return f"{version.number}:{version.edit_lock}" if version is not None else ""


def _unchanged_since(version, token: str | None) -> bool:
    return version is not None and bool(token) and token == lock_token(version)


def save_draft(session: Session, actor: Actor, raw: dict, edit_lock: str | None, rubric: Upload | None = None,
               *, slug: str | None = None) -> McVersion:
    """Create or update the draft version of an MC: ``slug`` names the MC being edited (None for a new one).
    ``edit_lock`` is the ``lock_token`` of the version the editor loaded (``None`` for a new MC); if anyone
    saved since, the save is refused with a Conflict. ``rubric``, a CSV file (``rubric_csv``), replaces the
    document's rubric."""
    require_catalog_admin(actor)
    if slug is not None:
        raw = dict(raw, slug=get_mc(session, actor, slug).slug)  # another district's MC is not found
    if rubric is not None:
        try:
            text = read_upload(rubric, "rubric")
        except BadRequest as error:
            raise rubric_csv.RubricFileError([str(error.message)], rubric[0]) from None
        raw = dict(raw, rubric=rubric_csv.parse(text, rubric[0]))
    mc = session.scalar(select(MicroCredential).where(MicroCredential.district_id == actor.district_id,
                                                      MicroCredential.slug == raw.get("slug")))
    draft = draft_version(mc) if mc else None
    latest = mc.versions[-1] if mc and mc.versions else None
    # The lock check comes first: a stale editor hears about the other save before any validation error.
    if mc is not None and not edit_lock:
        raise SlugTaken(_l("A micro-credential with the short name '%(slug)s' already exists: open it to edit it, "
                           "or choose another short name.", slug=mc.slug))
    if latest is not None and not _unchanged_since(latest, edit_lock):
        raise Conflict(_l("Someone saved this micro-credential after you opened it. Reload to see their changes."))
    raw = dict(raw, version=draft.number if draft else (latest.number + 1 if latest else 1))
    parsed = doc.parse(raw, f"'{raw.get('slug')}'")
    if mc is None:
        mc = MicroCredential(district_id=actor.district_id, slug=parsed.slug, status=Status.DRAFT)
        session.add(mc)
        session.flush()
    if draft is None:
        draft = McVersion(number=parsed.version, **rules.columns(parsed))
        mc.versions.append(draft)
    else:
        for name, value in rules.columns(parsed).items():
            setattr(draft, name, value)
    try:
        session.flush()
    except StaleDataError as error:  # a concurrent save won the race between our check and our UPDATE
        raise Conflict() from error
    rules.check_references(session, actor.district_id, [parsed])
    rules.check_titles(session, actor.district_id, [parsed])
    audit.record(session, action="mc.draft_saved", subject_type="micro_credential", subject_id=mc.id,
                 district_id=actor.district_id, actor_user_id=actor.user_id, after={"version": draft.number})
    return draft


def save_stack(session: Session, actor: Actor, raw: dict, edit_lock: str | None, *,
               slug: str | None = None) -> StackVersion:
    """Create a stack or change the one ``slug`` names; a stack has no draft state: each save publishes a new
    version. ``edit_lock`` is the ``lock_token`` of the version the editor loaded (``None`` for a new stack)."""
    require_catalog_admin(actor)
    if slug is not None:
        raw = dict(raw, slug=get_stack(session, actor, slug).slug)  # another district's stack is not found
    stack = session.scalar(select(Stack).where(Stack.district_id == actor.district_id, Stack.slug == raw.get("slug")))
    latest = stack.versions[-1] if stack and stack.versions else None
    if latest is not None and not _unchanged_since(latest, edit_lock):
        raise Conflict(_l("Someone changed this stack after you opened it. Reload to see their changes."))
    parsed = doc.parse(dict(raw, version=latest.number + 1 if latest else 1), f"'{raw.get('slug')}'")
    if not isinstance(parsed, doc.StackDocument):
        raise BadRequest(_l("That is not a stack."))
    if stack is None:
        stack = Stack(district_id=actor.district_id, slug=parsed.slug, status=Status.DRAFT)
        session.add(stack)
        session.flush()
    version = StackVersion(number=parsed.version, **rules.columns(parsed))
    stack.versions.append(version)
    session.flush()
    rules.check_references(session, actor.district_id, [parsed])
    rules.check_titles(session, actor.district_id, [parsed])
    _publish(session, actor, stack, version)
    return version


def publish(session: Session, actor: Actor, slug: str) -> McVersion:
    """Publish an MC's draft: teachers who start it from now on get this version."""
    require_catalog_admin(actor, operator=True)
    mc = get_mc(session, actor, slug)
    draft = draft_version(mc)
    if draft is None:
        raise BadRequest(_l("There is no draft to publish."))
    _publish(session, actor, mc, draft)
    return draft


def _publish(session: Session, actor: Actor, item: MicroCredential | Stack, version) -> None:
    before = item.published
    if before is not None:
        before.state = VersionState.SUPERSEDED
    version.state = VersionState.PUBLISHED
    version.published_at = utcnow()
    item.published = version
    item.status = Status.PUBLISHED
    session.flush()
    audit.record(session, action=f"{'stack' if isinstance(item, Stack) else 'mc'}.published",
                 subject_type=item.__tablename__, subject_id=item.id, district_id=item.district_id,
                 actor_user_id=actor.user_id, before={"version": before.number} if before else None,
                 after={"version": version.number})


def retire(session: Session, actor: Actor, slug: str) -> None:
    """No new pursuits; its published version stays, for the pursuits already on it."""
    require_catalog_admin(actor)
    mc = get_mc(session, actor, slug)
    if mc.status != Status.PUBLISHED:
        raise Conflict(_l("Only a published micro-credential can be retired."))
    old = mc.status
    mc.status = Status.RETIRED
    session.flush()
    audit.record(session, action="mc.retired", subject_type="micro_credential", subject_id=mc.id,
                 district_id=actor.district_id, actor_user_id=actor.user_id, before={"status": old.value},
                 after={"status": "retired"})


def restore(session: Session, actor: Actor, slug: str) -> None:
    """Bring a retired MC back: its published version is offered again (schools that offered it still do)."""
    require_catalog_admin(actor)
    mc = get_mc(session, actor, slug)
    if mc.status != Status.RETIRED or mc.published is None:
        raise Conflict(_l("Only a retired micro-credential can be restored."))
    mc.status = Status.PUBLISHED
    session.flush()
    audit.record(session, action="mc.restored", subject_type="micro_credential", subject_id=mc.id,
                 district_id=actor.district_id, actor_user_id=actor.user_id, before={"status": "retired"},
                 after={"status": "published"})


def delete(session: Session, actor: Actor, slug: str) -> None:
    """Only a never-published MC can be deleted: once teachers may have started it, retire it instead."""
    require_catalog_admin(actor)
    mc = get_mc(session, actor, slug)
    if any(v.state != VersionState.DRAFT for v in mc.versions) or mc.status != Status.DRAFT:
        raise Conflict(_l("This micro-credential has been published, so it can only be retired, not deleted."))
    audit.record(session, action="mc.deleted", subject_type="micro_credential", subject_id=mc.id,
                 district_id=actor.district_id, actor_user_id=actor.user_id, before={"slug": slug})
    session.delete(mc)
    session.flush()


def set_district_policy(session: Session, actor: Actor, values: dict) -> dict:
    """Change the district's rules (plan approval, attempts, cooldown, window, whole-catalog visibility);
    every MC that does not set a rule for itself follows them."""
    from lti_tool.people.models import District

    require_catalog_admin(actor)
    district = session.get(District, actor.district_id)
    before = dict(district.policy or {})
    merged = dict(before)
    for key, value in values.items():
        if key not in DEFAULTS:
            raise BadRequest(_l("Unknown setting '%(key)s'.", key=key))
        merged[key] = value
    for key, (low, high) in LIMITS.items():
        value = merged.get(key, DEFAULTS[key])
        if value is None and key == "window_days":
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise BadRequest({
                "attempts": _l("Attempts must be a whole number from %(low)s to %(high)s.", low=low, high=high),
                "cooldown_days": _l("The cooldown (days) must be a whole number from %(low)s to %(high)s.",
                                    low=low, high=high),
                "window_days": _l("The submission window (days), if set, must be a whole number from %(low)s to "
                                  "%(high)s.", low=low, high=high)}[key])
    district.policy = merged
    session.flush()
    audit.record(session, action="district.policy_changed", subject_type="district", subject_id=district.id,
                 district_id=district.id, actor_user_id=actor.user_id, before=before, after=merged)
    return vars(district_policy(merged))
