"""Catalog pages: browse and read (everyone), choose the school's offer (school admins), manage (district
admins). Thin: parse the request, call a catalog service (which checks permission), render."""
from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request

from lti_tool import db
from lti_tool.catalog import editor_form, manage as pages, offer, service
from lti_tool.catalog.policy import LIMITS
from lti_tool.errors import NotFound
from lti_tool.inputs import parse_int
from lti_tool.lti.session import requires_actor, session_url

bp = Blueprint("catalog", __name__, url_prefix="/catalog")


@bp.get("/")
@requires_actor
def index():
    max_effort = parse_int(request.args.get("effort"), field="Effort", minimum=0, default=None)
    filters = offer.Filters(query=request.args.get("q", ""), topic=request.args.get("topic", ""),
                            max_effort=max_effort, stack=request.args.get("stack", ""))
    page = offer.catalog_page(db.session(), g.actor, filters)
    return render_template("catalog/index.html", page=page, filters=filters)


@bp.get("/mc/<slug>")
@requires_actor
def mc_detail(slug: str):
    page = offer.mc_page(db.session(), g.actor, slug)
    return render_template("catalog/mc.html", version=page.version, d=page.document, raw=page.document.raw,
                           policy=page.policy)


@bp.get("/stack/<slug>")
@requires_actor
def stack_detail(slug: str):
    page = offer.stack_page(db.session(), g.actor, slug)
    return render_template("catalog/stack.html", version=page.version, raw=page.version.document,
                           members=page.members)


@bp.route("/offer", methods=["GET", "POST"])
@requires_actor
def school_offer():
    session = db.session()
    if request.method == "POST":
        offer.set_offering(session, g.actor, g.actor.school_id, request.form.get("kind", ""),
                           request.form.get("slug", ""), offered=request.form.get("offered") == "1",
                           featured=request.form.get("featured") == "1")
        return redirect(session_url("catalog.school_offer"), code=303)
    return render_template("catalog/offer.html", page=offer.offer_page(session, g.actor))


# --- district management -------------------------------------------------------------------------------

@bp.get("/manage")
@requires_actor
def manage():
    return render_template("catalog/manage.html", page=pages.manage_page(db.session(), g.actor))


@bp.post("/manage/policy")
@requires_actor
def district_policy_form():
    form = request.form

    def number(name, label):
        low, high = LIMITS[name]
        return parse_int(form.get(name), field=label, minimum=low, maximum=high, default=None)

    service.set_district_policy(db.session(), g.actor, {
        "plan_approval": form.get("plan_approval") == "1", "attempts": number("attempts", "Attempts") or 1,
        "cooldown_days": number("cooldown_days", "Cooldown") or 0,
        "window_days": number("window_days", "Submission window"),
        "district_catalog_visible": form.get("district_catalog_visible") == "1"})
    return redirect(session_url("catalog.manage"), code=303)


@bp.post("/manage/<slug>/<action>")
@requires_actor
def manage_action(slug: str, action: str):
    actions = {"publish": service.publish, "retire": service.retire, "delete": service.delete}
    if action not in actions:
        raise NotFound()
    actions[action](db.session(), g.actor, slug)
    return redirect(session_url("catalog.manage"), code=303)


@bp.route("/manage/import", methods=["GET", "POST"])
@requires_actor
def import_documents():
    result = None
    if request.method == "POST":
        uploads = [(f.filename, f.stream) for f in request.files.getlist("documents") if f.filename]
        result = service.import_uploads(db.session(), g.actor, uploads, publish=request.form.get("publish") == "1")
    else:
        service.require_catalog_admin(g.actor)
    return render_template("catalog/import.html", result=result)


@bp.get("/manage/export/<kind>/<slug>.json")
@requires_actor
def export(kind: str, slug: str):
    number = parse_int(request.args.get("version"), field="Version", minimum=1, default=None)
    text = service.export_text(db.session(), g.actor, kind, slug, number)
    return Response(text, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{slug}.json"'})


@bp.route("/manage/edit", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/manage/edit/<slug>", methods=["GET", "POST"])
@requires_actor
def edit(slug: str | None):
    session = db.session()
    if request.method == "POST":
        upload = request.files.get("rubric_csv")
        saved = service.save_draft(session, g.actor, editor_form.to_document(request.form),
                                   request.form.get("edit_lock") or None,
                                   rubric=(upload.filename, upload.stream) if upload and upload.filename else None,
                                   slug=slug)
        if request.form.get("then") == "publish":
            service.publish(session, g.actor, saved.micro_credential.slug)
            return redirect(session_url("catalog.manage"), code=303)
        return redirect(session_url("catalog.edit", slug=saved.micro_credential.slug), code=303)
    page = pages.editor_page(session, g.actor, slug)
    return render_template("catalog/edit.html", raw=page.raw, version=page.version, lock=page.lock, rules=page.rules,
                           form=editor_form)


@bp.route("/manage/stack", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/manage/stack/<slug>", methods=["GET", "POST"])
@requires_actor
def edit_stack(slug: str | None):
    session = db.session()
    if request.method == "POST":
        service.save_stack(session, g.actor, editor_form.stack_document(request.form),
                           request.form.get("edit_lock") or None, slug=slug)
        return redirect(session_url("catalog.manage"), code=303)
    page = pages.stack_editor_page(session, g.actor, slug)
    return render_template("catalog/edit_stack.html", raw=page.raw, version=page.version, lock=page.lock,
                           choices=page.choices)


@bp.post("/manage/preview")
@requires_actor
def preview():
    """What a teacher would see, rendered from the editor's unsaved form (the editor's live preview)."""
    result = pages.preview(db.session(), g.actor, editor_form.to_document(request.form))
    if result.document is None:
        return render_template("catalog/_preview_problems.html", problems=result.problems)
    return render_template("catalog/_mc_body.html", d=result.document, raw=result.document.raw,
                           policy=result.policy)
