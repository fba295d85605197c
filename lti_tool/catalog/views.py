"""Catalog pages: browse and read (everyone), choose the school's offer (school admins), manage (district
admins). Thin: parse the request, call a catalog service (which checks permission), render."""
from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request
from flask_babel import lazy_gettext as _l

from lti_tool import db
from lti_tool.catalog import editor_form, form_errors, manage as pages, offer, service
from lti_tool.catalog.policy import LIMITS
from lti_tool.errors import BadRequest, Conflict, NotFound
from lti_tool.inputs import parse_int
from lti_tool.lti.session import requires_actor, session_url

bp = Blueprint("catalog", __name__, url_prefix="/catalog")


@bp.get("/")
@requires_actor
def index():
    max_effort = parse_int(request.args.get("effort"), field=_l("Effort"), minimum=0, default=None)
    filters = offer.Filters(query=request.args.get("q", ""), topic=request.args.get("topic", ""),
                            max_effort=max_effort, stack=request.args.get("stack", ""))
    page = offer.catalog_page(db.session(), g.actor, filters)
    return render_template("catalog/index.html", page=page, filters=filters)


@bp.get("/mc/<slug>")
@requires_actor
def mc_detail(slug: str):
    page = offer.mc_page(db.session(), g.actor, slug)
    return render_template("catalog/mc.html", page=page, version=page.version, d=page.document,
                           raw=page.document.raw, policy=page.policy, staff=page.staff)


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
    return _manage_page()


def _manage_page(values=None, errors=None, status=200):
    page = pages.manage_page(db.session(), g.actor)
    rules = values if values is not None else {
        name: "1" if value is True else "" if value in (None, False) else str(value)
        for name, value in vars(page.rules).items()}
    summary = [(name, message) for name, message in (errors or {}).items()]
    return render_template("catalog/manage.html", page=page, rules=rules, errors=errors or {}, summary=summary), status


POLICY_LABELS = {"attempts": _l("Attempts"), "cooldown_days": _l("Cooldown"), "window_days": _l("Submission window")}


@bp.post("/manage/policy")
@requires_actor
def district_policy_form():
    form = request.form
    service.require_catalog_admin(g.actor)
    values, errors = {}, {}
    for name, label in POLICY_LABELS.items():
        low, high = LIMITS[name]
        try:
            values[name] = parse_int(form.get(name), field=label, minimum=low, maximum=high, default=None)
        except BadRequest as error:
            errors[name] = str(error.message)  # a lazy string has __html__: make it text, escaped when shown
    if errors:
        return _manage_page(editor_form.echo(form), errors, 400)
    service.set_district_policy(db.session(), g.actor, {
        "plan_approval": form.get("plan_approval") == "1", "attempts": values["attempts"] or 1,
        "cooldown_days": values["cooldown_days"] or 0, "window_days": values["window_days"],
        "district_catalog_visible": form.get("district_catalog_visible") == "1"})
    return redirect(session_url("catalog.manage"), code=303)


ACTIONS = {"publish": service.publish, "retire": service.retire, "restore": service.restore,
           "delete": service.delete}
CONFIRMED = {"retire", "delete"}  # asked first: a page that says what happens (or the same words in a dialog)


@bp.post("/manage/<slug>/<action>")
@requires_actor
def manage_action(slug: str, action: str):
    if action not in ACTIONS:
        raise NotFound()
    if action in CONFIRMED and request.form.get("confirm") != "1":
        return render_template("catalog/confirm.html", row=pages.manage_row(db.session(), g.actor, slug),
                               action=action)
    ACTIONS[action](db.session(), g.actor, slug)
    return redirect(session_url("catalog.manage"), code=303)


@bp.route("/manage/import", methods=["GET", "POST"])
@requires_actor
def import_documents():
    result = None
    if request.method == "POST":
        uploads = [(f.filename, f.stream) for f in request.files.getlist("documents") if f.filename]
        try:
            result = service.import_uploads(db.session(), g.actor, uploads,
                                            publish=request.form.get("publish") == "1")
        except BadRequest as error:
            _refused()
            summary = [("documents", str(error.message))] + [(None, p) for p in getattr(error, "problems", [])[1:10]]
            return render_template("catalog/import.html", result=None, error=error, summary=summary,
                                   publish=request.form.get("publish") == "1"), error.status
    else:
        service.require_catalog_admin(g.actor)
    return render_template("catalog/import.html", result=result, error=None, publish=True)


@bp.get("/manage/export/<kind>/<slug>.json")
@requires_actor
def export(kind: str, slug: str):
    number = parse_int(request.args.get("version"), field=_l("Version"), minimum=1, default=None)
    text = service.export_text(db.session(), g.actor, kind, slug, number)
    return Response(text, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{slug}.json"'})


def _refused() -> None:
    """A refused form is shown again in this request: drop what the failed save flushed (the boundary would
    roll it back anyway, as the status is 4xx) so the page can read the stored rows."""
    db.session().rollback()


@bp.route("/manage/edit", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/manage/edit/<slug>", methods=["GET", "POST"])
@requires_actor
def edit(slug: str | None):
    session = db.session()
    if request.method == "POST":
        upload = request.files.get("rubric_csv")
        try:
            saved = service.save_draft(session, g.actor, editor_form.to_document(request.form),
                                       request.form.get("edit_lock") or None,
                                       rubric=(upload.filename, upload.stream) if upload and upload.filename else None,
                                       slug=slug)
            if request.form.get("then") == "publish":
                service.publish(session, g.actor, saved.micro_credential.slug)
                return redirect(session_url("catalog.manage"), code=303)
        except (BadRequest, Conflict) as error:
            _refused()
            refusal = form_errors.refusal(error, request.form)
            if upload and upload.filename and "rubric_csv" not in refusal.errors:
                refusal.add("rubric_csv", form_errors.rubric_file(upload.filename))
            page = pages.editor_page(session, g.actor, slug)
            return render_template("catalog/edit.html", page=page, values=editor_form.echo(request.form),
                                   lock=request.form.get("edit_lock", ""), refusal=refusal,
                                   form=editor_form), refusal.status
        return redirect(session_url("catalog.edit", slug=saved.micro_credential.slug), code=303)
    page = pages.editor_page(session, g.actor, slug)
    return render_template("catalog/edit.html", page=page, values=editor_form.form_values(page.raw), lock=page.lock,
                           refusal=None, form=editor_form)


@bp.route("/manage/stack", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/manage/stack/<slug>", methods=["GET", "POST"])
@requires_actor
def edit_stack(slug: str | None):
    session = db.session()
    if request.method == "POST":
        try:
            service.save_stack(session, g.actor, editor_form.stack_document(request.form),
                               request.form.get("edit_lock") or None, slug=slug)
        except (BadRequest, Conflict) as error:
            _refused()
            refusal = form_errors.refusal(error, request.form, kind="stack")
            page = pages.stack_editor_page(session, g.actor, slug)
            return render_template("catalog/edit_stack.html", page=page, values=editor_form.echo(request.form),
                                   lock=request.form.get("edit_lock", ""), refusal=refusal,
                                   form=editor_form), refusal.status
        return redirect(session_url("catalog.manage"), code=303)
    page = pages.stack_editor_page(session, g.actor, slug)
    return render_template("catalog/edit_stack.html", page=page, values=editor_form.stack_values(page.raw),
                           lock=page.lock, refusal=None, form=editor_form)


@bp.post("/manage/preview")
@requires_actor
def preview():
    """What a teacher would see, rendered from the editor's unsaved form (the editor's live preview)."""
    result = pages.preview(db.session(), g.actor, editor_form.to_document(request.form))
    if result.document is None:
        return render_template("catalog/_preview_problems.html",
                               refusal=form_errors.refusal(result.error, request.form))
    return render_template("catalog/_mc_body.html", d=result.document, raw=result.document.raw,
                           policy=result.policy, staff=False, preview=True)
