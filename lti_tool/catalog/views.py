"""Catalog pages: browse and read (everyone), choose the school's offer (school admins), manage (district
admins). Thin: parse, call the catalog services, render."""
from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request

from lti_tool import db
from lti_tool.catalog import document as doc
from lti_tool.catalog import editor_form, offer, rubric_csv, service
from lti_tool.catalog.models import MicroCredential, Stack
from lti_tool.catalog.policy import LIMITS, district_policy, mc_policy
from lti_tool.errors import BadRequest, Forbidden, NotFound
from lti_tool.inputs import parse_int
from lti_tool.lti.session import requires_actor, session_url
from lti_tool.people.models import District, School

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_CREDIT = 1000  # hours or points; the schema's maximum for credit and bonus_credit


@bp.get("/")
@requires_actor
def index():
    max_effort = parse_int(request.args.get("effort"), field="Effort", minimum=0, default=None)
    filters = offer.Filters(query=request.args.get("q", ""), topic=request.args.get("topic", ""),
                            max_effort=max_effort, stack=request.args.get("stack", ""))
    session = db.session()
    everything = offer.catalog_for(session, g.actor)
    entries = offer.catalog_for(session, g.actor, filters)
    school = session.get(School, g.actor.school_id) if g.actor.school_id else None
    return render_template("catalog/index.html", entries=entries, filters=filters, topics=offer.topics(everything),
                           stacks=[e for e in everything if e.kind == "stack"], school=school,
                           total=len(everything))


def _visible_slugs(kind: str) -> set[str]:
    return {e.slug for e in offer.catalog_for(db.session(), g.actor) if e.kind == kind}


@bp.get("/mc/<slug>")
@requires_actor
def mc_detail(slug: str):
    session = db.session()
    mc = service.get_mc(session, g.actor.district_id, slug)
    version = service.published_version(mc)
    if version is None or (slug not in _visible_slugs("mc") and not g.actor.is_district_admin):
        raise NotFound("This micro-credential is not offered to you.")
    parsed = doc.parse(version.document, slug)
    district = session.get(District, g.actor.district_id)
    policy = mc_policy(district_policy(district.policy), version.document.get("policy"))
    return render_template("catalog/mc.html", mc=mc, version=version, d=parsed, raw=version.document, policy=policy)


@bp.get("/stack/<slug>")
@requires_actor
def stack_detail(slug: str):
    session = db.session()
    stack = service.get_stack(session, g.actor.district_id, slug)
    version = service.published_version(stack)
    if version is None or (slug not in _visible_slugs("stack") and not g.actor.is_district_admin):
        raise NotFound("This stack is not offered to you.")
    members = []
    for member_slug in version.document["micro_credentials"]:
        member = service.published_version(service.get_mc(session, g.actor.district_id, member_slug))
        if member is not None:
            members.append((member_slug, member))
    return render_template("catalog/stack.html", stack=stack, version=version, raw=version.document, members=members)


# --- school offer --------------------------------------------------------------------------------------

@bp.route("/offer", methods=["GET", "POST"])
@requires_actor
def school_offer():
    actor = g.actor
    if not (actor.school_admin or actor.is_district_admin) or actor.school_id is None:
        raise Forbidden("Only a school administrator can choose what the school offers.",
                        hint="School administrators are designated per school by the district.")
    session = db.session()
    if request.method == "POST":
        kind, slug = request.form.get("kind", ""), request.form.get("slug", "")
        offer.set_offering(session, actor, actor.school_id, kind, slug,
                           offered=request.form.get("offered") == "1", featured=request.form.get("featured") == "1")
        return redirect(session_url("catalog.school_offer"), code=303)
    return render_template("catalog/offer.html", entries=offer.catalog_for(session, actor),
                           school=session.get(School, actor.school_id))


# --- district management -------------------------------------------------------------------------------

def _require_district_admin():
    if not g.actor.is_district_admin or g.actor.test_user:
        raise Forbidden("Only a district administrator can manage the catalog.")


@bp.get("/manage")
@requires_actor
def manage():
    _require_district_admin()
    session = db.session()
    from sqlalchemy import select

    mcs = session.scalars(select(MicroCredential).where(MicroCredential.district_id == g.actor.district_id)
                          .order_by(MicroCredential.slug)).all()
    stacks = session.scalars(select(Stack).where(Stack.district_id == g.actor.district_id).order_by(Stack.slug)).all()
    policy = district_policy(session.get(District, g.actor.district_id).policy)
    return render_template("catalog/manage.html", mcs=mcs, stacks=stacks, published=service.published_version,
                           draft=service.draft_version, policy=policy)


@bp.post("/manage/policy")
@requires_actor
def district_policy_form():
    _require_district_admin()
    form = request.form

    def number(name, label):
        low, high = LIMITS[name]
        return parse_int(form.get(name), field=label, minimum=low, maximum=high, default=None)

    service.set_district_policy(db.session(), g.actor, g.actor.district_id, {
        "plan_approval": form.get("plan_approval") == "1", "attempts": number("attempts", "Attempts") or 1,
        "cooldown_days": number("cooldown_days", "Cooldown") or 0,
        "window_days": number("window_days", "Submission window"),
        "district_catalog_visible": form.get("district_catalog_visible") == "1"})
    return redirect(session_url("catalog.manage"), code=303)


@bp.post("/manage/<slug>/<action>")
@requires_actor
def manage_action(slug: str, action: str):
    _require_district_admin()
    session, district_id = db.session(), g.actor.district_id
    actions = {"publish": service.publish, "retire": service.retire, "delete": service.delete}
    if action not in actions:
        raise NotFound()
    actions[action](session, g.actor, district_id, slug)
    return redirect(session_url("catalog.manage"), code=303)


@bp.route("/manage/import", methods=["GET", "POST"])
@requires_actor
def import_documents():
    _require_district_admin()
    result = None
    if request.method == "POST":
        files = [f for f in request.files.getlist("documents") if f.filename]
        if not files:
            raise BadRequest("Choose one or more catalog JSON files to import.")
        sources = []
        for upload in files:
            data = upload.stream.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                raise BadRequest(f"{upload.filename} is larger than 2 MB; a catalog document is much smaller.")
            try:
                sources.append((upload.filename, data.decode("utf-8")))
            except UnicodeDecodeError as error:
                raise BadRequest(f"{upload.filename} is not UTF-8 text.") from error
        result = service.import_texts(db.session(), g.actor, g.actor.district_id, sources,
                                      publish=request.form.get("publish") == "1")
    return render_template("catalog/import.html", result=result)


@bp.get("/manage/export/<kind>/<slug>.json")
@requires_actor
def export(kind: str, slug: str):
    _require_district_admin()
    if kind not in ("mc", "stack"):
        raise NotFound()
    number = parse_int(request.args.get("version"), field="Version", minimum=1, default=None)
    text = service.export_text(db.session(), g.actor.district_id, kind, slug, number)
    return Response(text, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{slug}.json"'})


@bp.route("/manage/edit", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/manage/edit/<slug>", methods=["GET", "POST"])
@requires_actor
def edit(slug: str | None):
    _require_district_admin()
    session = db.session()
    version = None
    if slug:
        mc = service.get_mc(session, g.actor.district_id, slug)
        version = service.draft_version(mc) or mc.versions[-1]
    if request.method == "POST":
        raw = editor_form.to_document(request.form)
        upload = request.files.get("rubric_csv")
        if upload and upload.filename:
            data = upload.stream.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                raise BadRequest("That rubric file is larger than 2 MB.")
            raw["rubric"] = rubric_csv.parse(data.decode("utf-8", errors="replace"), upload.filename)
        saved = service.save_draft(session, g.actor, g.actor.district_id, raw, request.form.get("edit_lock") or None)
        if request.form.get("then") == "publish":
            service.publish(session, g.actor, g.actor.district_id, saved.micro_credential.slug)
            return redirect(session_url("catalog.manage"), code=303)
        return redirect(session_url("catalog.edit", slug=saved.micro_credential.slug), code=303)
    raw = version.document if version else editor_form.blank_document()
    return render_template("catalog/edit.html", raw=raw, version=version, form=editor_form,
                           lock=service.lock_token(version))


@bp.route("/manage/stack", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/manage/stack/<slug>", methods=["GET", "POST"])
@requires_actor
def edit_stack(slug: str | None):
    _require_district_admin()
    session = db.session()
    from sqlalchemy import select

    version = service.get_stack(session, g.actor.district_id, slug).versions[-1] if slug else None
    if request.method == "POST":
        form = request.form
        title = form.get("title", "").strip()
        hours = parse_int(form.get("bonus_hours"), field="Bonus hours", minimum=0, maximum=MAX_CREDIT, default=0)
        points = parse_int(form.get("bonus_points"), field="Bonus points", minimum=0, maximum=MAX_CREDIT, default=0)
        raw = {"format": doc.FORMAT, "kind": "stack", "slug": form.get("slug", "").strip() or editor_form.slugify(title),
               "version": 1, "title": title, "summary": form.get("summary", "").strip(),
               "description": form.get("description", "").strip(),
               "issuer": {"name": form.get("issuer_name", "").strip() or "District", "url": None}, "badge_image": None,
               "ordered": form.get("ordered") == "1", "micro_credentials": form.getlist("members"),
               "bonus_credit": {"hours": hours, "points": points}}
        service.save_stack(session, g.actor, g.actor.district_id, raw, form.get("edit_lock") or None)
        return redirect(session_url("catalog.manage"), code=303)
    mcs = session.scalars(select(MicroCredential).where(MicroCredential.district_id == g.actor.district_id)
                          .order_by(MicroCredential.slug)).all()
    raw = version.document if version else {"slug": "", "title": "", "summary": "", "description": "",
                                            "issuer": {"name": "District"}, "ordered": False, "micro_credentials": [],
                                            "bonus_credit": {"hours": 3, "points": 0}}
    members = list(raw["micro_credentials"])  # keep the stack's order: its members first, as they stand
    mcs = sorted(mcs, key=lambda mc: (members.index(mc.slug) if mc.slug in members else len(members), mc.slug))
    return render_template("catalog/edit_stack.html", raw=raw, version=version, mcs=mcs, lock=service.lock_token(version),
                           latest=lambda mc: mc.versions[-1] if mc.versions else None)


@bp.post("/manage/preview")
@requires_actor
def preview():
    """What a teacher would see, rendered from the editor's unsaved form (the editor's live preview)."""
    _require_district_admin()
    raw = editor_form.to_document(request.form)
    try:
        parsed = doc.parse(dict(raw, version=1), "the draft")
    except doc.DocumentError as error:
        return render_template("catalog/_preview_problems.html", problems=error.problems)
    district = db.session().get(District, g.actor.district_id)
    policy = mc_policy(district_policy(district.policy), raw.get("policy"))
    return render_template("catalog/_mc_body.html", d=parsed, raw=parsed.raw, policy=policy)
