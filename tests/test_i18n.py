"""English and Spanish: the launch's locale, the language switch kept with the session, Accept-Language on
anonymous pages, errors in the page's language, dates and numbers per locale, and a catalog that is complete,
compiled and in step with the source."""
from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

import lti_tool
from lti_tool.lti.models import ToolSession
from lti_tool.lti.roles import Role
from tests.support.signer import CLAIM, LIS, login
from tests.support.web import BASE, use_session

PACKAGE = Path(lti_tool.__file__).resolve().parent
ROOT = PACKAGE.parent
SPANISH_PO = PACKAGE / "translations" / "es" / "LC_MESSAGES" / "messages.po"
SPANISH_MO = SPANISH_PO.with_suffix(".mo")


def _launch(client, signer, **claims):
    """A launch from the signing platform; returns the client, signed in (the session cookie is set)."""
    query = login(client, signer)
    token = signer.sign(signer.claims(query["nonce"], **claims))
    response = client.post("/lti/launch", base_url=BASE, data={"id_token": token, "state": query["state"]})
    assert response.status_code == 303, response.text
    return client


def _form_csrf(page, action: str) -> str:
    """The CSRF token of the page's form posting to ``action``."""
    found = re.search(rf'action="{action}[^"]*"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
                      page.text)
    assert found, f"the page has no form posting to {action}"
    return found.group(1)


def _switch(client, locale: str, next_path: str = "/", **extra):
    token = _form_csrf(client.get(next_path, base_url=BASE), "/language")
    return client.post("/language", base_url=BASE,
                       data={"csrf_token": token, "locale": locale, "next": next_path, **extra})


def _text(page) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.text))


def _spanish_catalog():
    with SPANISH_PO.open("rb") as po:
        return read_po(po)


def _english_left(page) -> list[str]:
    """Sentences of the English source shown untranslated on a page (a page in Spanish should show none). The
    test district's school is named like the Schools page's example name: its name is data, not a string."""
    text = " ".join(_text(page).split())
    return [m.id for m in _spanish_catalog() if isinstance(m.id, str) and len(m.id) > 12 and "%(" not in m.id
            and "<" not in m.id and m.string != m.id and m.id in text and m.id != "Lakeside Elementary School"]


# --- the launch's locale --------------------------------------------------------------------------------

def test_a_spanish_launch_renders_home_in_spanish(client, signer, registration):
    _launch(client, signer, **{CLAIM + "launch_presentation": {"document_target": "iframe", "locale": "es-MX"}})
    home = client.get("/", base_url=BASE)
    assert '<html lang="es-MX"' in home.text
    assert "Le damos la bienvenida, Ana Teacher" in home.text and "Docente" in home.text
    assert "Explorar microcredenciales" in home.text and "Cerrar sesión en Microcred" in home.text
    assert "Browse micro-credentials" not in home.text and _english_left(home) == []


def test_the_openid_locale_claim_counts_when_launch_presentation_has_none(client, signer, registration):
    _launch(client, signer, locale="es")
    home = client.get("/", base_url=BASE)
    assert '<html lang="es-US"' in home.text and "Le damos la bienvenida" in home.text


def test_a_language_microcred_does_not_speak_falls_back_to_the_browser(client, signer, registration, session):
    _launch(client, signer, **{CLAIM + "launch_presentation": {"locale": "fr-CA"}})
    assert session.scalar(select(ToolSession.actor))["locale"] is None
    assert "Welcome, Ana Teacher" in client.get("/", base_url=BASE).text
    spanish_browser = client.get("/", base_url=BASE, headers={"Accept-Language": "es-419,es;q=0.9"})
    assert "Le damos la bienvenida" in spanish_browser.text


def test_an_english_launch_stays_english_whatever_the_browser_says(client, signer, registration):
    _launch(client, signer, **{CLAIM + "launch_presentation": {"locale": "en-US"}})
    home = client.get("/", base_url=BASE, headers={"Accept-Language": "es"})
    assert '<html lang="en-US"' in home.text and "Welcome, Ana Teacher" in home.text


def test_a_session_opened_before_locales_were_kept_still_loads():
    from lti_tool.lti.actor import Actor

    older = {"user_id": 1, "district_id": 1, "roles": ["teacher"], "registration_id": 1, "deployment_id": "1"}
    assert Actor.from_json(older).locale is None


# --- the language switch --------------------------------------------------------------------------------

def test_the_switch_changes_the_language_and_it_sticks_across_pages(client, signer, registration, session):
    _launch(client, signer, roles=[LIS + "membership#Learner"],
            **{CLAIM + "launch_presentation": {"locale": "en"}})
    home = client.get("/", base_url=BASE)
    assert '<span lang="en" aria-current="true">English</span>' in home.text
    assert '<button type="submit" name="locale" value="es" lang="es">Español</button>' in home.text

    switched = _switch(client, "es")
    assert switched.status_code == 303 and switched.headers["Location"] == "/"
    assert session.scalar(select(ToolSession.actor))["locale"] == "es_US"
    for _ in range(2):  # kept with the session, page after page
        home = client.get("/", base_url=BASE)
        assert "Le damos la bienvenida" in home.text and '<html lang="es-US"' in home.text
    missing = client.get("/no-such-page", base_url=BASE)  # an error page of the same session
    assert missing.status_code == 404 and "Esa página no existe." in missing.text

    back = _switch(client, "en")
    assert back.status_code == 303
    assert "Welcome, Ana Teacher" in client.get("/", base_url=BASE).text


def test_the_switch_keeps_the_launch_territory_and_returns_to_the_page(client, signer, registration, session,
                                                                         district):
    from lti_tool.people.models import DistrictAdmin, User

    _launch(client, signer, **{CLAIM + "launch_presentation": {"locale": "es-MX"}})
    user = session.scalar(select(User))
    session.add(DistrictAdmin(district_id=district.id, user_id=user.id))
    session.commit()
    again = _switch(client, "es", "/district/schools/")  # the language already shown: its territory stays
    assert again.headers["Location"] == "/district/schools/"
    assert session.scalar(select(ToolSession.actor))["locale"] == "es_MX"
    schools = client.get("/district/schools/", base_url=BASE)
    assert "Asignar un curso de Canvas a una escuela" in schools.text and _english_left(schools) == []


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                       "/x\r\nSet-Cookie: a=b"])
def test_the_switch_never_sends_anyone_to_another_site(sign_in, next_path):
    client = sign_in({Role.TEACHER})
    response = client.post("/language", base_url=BASE, data={"csrf_token": client.csrf, "locale": "es",
                                                              "next": next_path})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_the_switch_refuses_other_languages_and_forms_without_csrf(sign_in, session):
    client = sign_in({Role.TEACHER})
    wrong = client.post("/language", base_url=BASE, data={"csrf_token": client.csrf, "locale": "fr"})
    assert wrong.status_code == 400 and "Choose English or Spanish." in wrong.text
    forged = client.post("/language", base_url=BASE, data={"locale": "es"})
    assert forged.status_code == 400 and "expired" in forged.text
    assert session.scalar(select(ToolSession.actor)).get("locale") is None


def test_without_a_session_there_is_no_switch_and_it_cannot_be_used(client, district):
    assert 'action="/language' not in client.get("/", base_url=BASE).text
    assert client.post("/language", base_url=BASE, data={"locale": "es"}).status_code == 401


def test_the_signed_out_page_speaks_the_sessions_language_and_offers_no_switch(client, signer, registration):
    _launch(client, signer, **{CLAIM + "launch_presentation": {"locale": "es"}})
    page = client.get("/", base_url=BASE)
    out = client.post("/sign-out", base_url=BASE, data={"csrf_token": _form_csrf(page, "/sign-out")})
    assert out.status_code == 200 and "Usted cerró su sesión en Microcred" in out.text
    assert 'action="/language' not in out.text


def test_a_frame_without_cookies_keeps_the_session_in_the_switch(app, sign_in):
    client = sign_in({Role.TEACHER})
    bare = app.test_client()  # no cookie: the token travels in the mcs parameter, as in a cookieless frame
    page = bare.get(f"/?mcs={client.token}", base_url=BASE, headers={"Sec-Fetch-Dest": "iframe"})
    assert f'action="/language?mcs={client.token}"' in page.text
    assert f'name="next" value="/?mcs={client.token}"' in page.text


# --- anonymous pages: Accept-Language -------------------------------------------------------------------

@pytest.mark.parametrize("header, spanish", [
    ("es-MX,es;q=0.9,en;q=0.8", True), ("es", True), ("fr-FR, es;q=0.5", True),
    ("en-US,en;q=0.9,es;q=0.8", False), ("fr", False), (None, False), ("*", False), ("x" * 500, False),
])
def test_the_welcome_page_follows_accept_language(client, district, header, spanish):
    page = client.get("/", base_url=BASE, headers={"Accept-Language": header} if header else {})
    assert page.status_code == 200
    if spanish:
        assert '<html lang="es-' in page.text and "Para empezar, abra Microcred desde su curso en Canvas." in page.text
        assert _english_left(page) == []
    else:
        assert '<html lang="en-US"' in page.text and "Open Microcred from your course in Canvas to begin." in page.text


@pytest.mark.parametrize("leg", ["sqlite"], indirect=True)
def test_the_practice_lms_stays_english(make_app, db_url):
    """A developer stand-in for Canvas: English whatever the browser asks, and no switch."""
    app = make_app(db_url, TOOL_BASE_URL="https://localhost:8443", PRACTICE_LMS=True)
    page = app.test_client().get("/practice/", base_url="https://localhost:8443", headers={"Accept-Language": "es"})
    assert page.status_code == 200 and '<html lang="en-US"' in page.text and 'action="/language' not in page.text


# --- errors in the page's language ----------------------------------------------------------------------

def test_a_refusal_raised_in_a_service_is_shown_in_spanish(sign_in):
    client = sign_in({Role.TEACHER})
    page = client.get("/district/schools/", base_url=BASE, headers={"Accept-Language": "es"})
    assert page.status_code == 403
    assert "Solo un administrador del distrito puede gestionar las escuelas." in page.text
    assert "Error 403" in page.text and '<code lang="en">forbidden</code>' in page.text
    assert _english_left(page) == []


def test_a_refused_launch_speaks_spanish_and_leaves_the_hint_for_it_in_english(client, signer, registration):
    query = login(client, signer)
    body = signer.claims("wrong-nonce")
    response = client.post("/lti/launch", base_url=BASE, headers={"Accept-Language": "es-MX"},
                           data={"id_token": signer.sign(body), "state": query["state"]})
    assert response.status_code == 400
    assert "No se pudo aceptar este acceso desde su LMS." in response.text
    assert re.search(r'<p lang="en">The id_token&#39;s nonce does not match', response.text)


def test_json_errors_keep_the_code_in_english_and_translate_the_message(sign_in):
    client = sign_in({Role.TEACHER})
    response = client.get("/district/schools/", base_url=BASE,
                          headers={"Accept": "application/json", "Accept-Language": "es"})
    assert response.status_code == 403 and response.json["error"] == "forbidden"
    assert response.json["message"] == "Solo un administrador del distrito puede gestionar las escuelas."


def test_an_untranslated_message_on_a_spanish_page_is_marked_english(app):
    from lti_tool.errors import render_error

    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        body, status = render_error(400, "bad_request", "A message no catalog knows.",
                                    hint="Your role does not allow this.")
    assert status == 400
    assert '<h1 lang="en">A message no catalog knows.</h1>' in body
    assert "<p>Su rol no permite hacer esto.</p>" in body  # a plain string the catalog knows is translated


def test_the_size_limit_page_formats_its_number_per_locale(app):
    from werkzeug.exceptions import RequestEntityTooLarge

    app.config["MAX_CONTENT_LENGTH"] = 1572864
    with app.test_request_context("/", method="POST", headers={"Accept-Language": "es"}):
        from flask import current_app

        body, status = current_app.handle_user_exception(RequestEntityTooLarge())
    assert status == 413 and "(aquí, un máximo de 1.5 MB)" in body


# --- dates and numbers ----------------------------------------------------------------------------------

def test_dates_and_numbers_follow_the_locale(app):
    from flask import render_template_string

    template = "{{ format_date(day, 'long') }} | {{ format_number(1234.5) }} | {{ format_percent(0.25) }}"
    day = date(2026, 3, 9)
    with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        assert render_template_string(template, day=day) == "9 de marzo de 2026 | 1,234.5 | 25%"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(template, day=day) == "March 9, 2026 | 1,234.5 | 25%"
    with app.test_request_context("/", headers={"Accept-Language": "es-ES"}):  # Spain's conventions, if asked
        assert render_template_string("{{ format_number(1234.5) }}").endswith("234,5")


@pytest.mark.parametrize("tag, locale", [
    ("es", "es_US"), ("es-MX", "es_MX"), ("es_419", "es_419"), ("EN-us", "en_US"), ("en", "en_US"),
    ("fr", None), ("", None), ("*", None), ("x-klingon", None), ("es-" + "x" * 60, None), (None, None), (3, None),
])
def test_normalize_keeps_a_language_microcred_speaks_with_its_territory(tag, locale):
    from lti_tool.i18n import normalize

    assert normalize(tag) == locale


# --- the catalog: complete, compiled, in step with the source -------------------------------------------

def test_every_spanish_msgid_has_a_translation():
    catalog = _spanish_catalog()
    untranslated = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == [], "translate these in es/LC_MESSAGES/messages.po, then make translations"


def test_the_committed_mo_matches_the_po():
    """The app loads the .mo; the .po is what people edit. `make translations` compiles one from the other."""
    with SPANISH_MO.open("rb") as mo:
        compiled = {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)): m.string for m in read_mo(mo) if m.id}
    source = {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)): m.string for m in _spanish_catalog()
              if m.id and not m.fuzzy}
    assert compiled == source, "run `make translations`: the compiled .mo is out of date"


def test_every_string_marked_in_the_source_is_in_the_spanish_catalog():
    """A string marked with _() or _l() but never merged would show in English on a Spanish page."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "_l": None,
                "lazy_gettext": None}
    marked = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
            str(PACKAGE), method_map, options_map, keywords=keywords):
        marked.add((context, message if isinstance(message, str) else message[0]))
    known = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _spanish_catalog() if m.id}
    assert sorted(marked - known, key=str) == [], "run `make translations` and translate the new strings"


# --- the catalog's pages in Spanish ---------------------------------------------------------------------

CATALOG_ENGLISH = [  # interface words of the catalog's pages, each of which a Spanish page must not show
    "Micro-credentials", "Manage the district catalog", "Filter the catalog", "micro-credentials", "About ",
    "Offered at", "Competency", "Key method", "Scoring rubric", "What to submit", "Reviewers use this same rubric",
    "Attempts:", "before trying again", "Back to the catalog", "Edit this micro-credential", "District catalog",
    "New micro-credential", "Import JSON", "Publish draft", "District rules", "Save rules", "Cooldown after",
    "Teachers can no longer start it", "The form could not be saved", "Enter a title.", "Short name (slug)",
    "One-line summary", "Add a criterion", "Save and publish", "The preview updates as you type.", "Markdown: a blank",
    "District rule:", "Criterion 1", "Task 1", "Cancel", "Breadcrumb",
]


def test_the_catalog_speaks_spanish_list_mc_manage_and_a_refused_editor(sign_in, session, district):
    from tests.support import catalog_docs

    catalog_docs.load(session, district.id, sources=catalog_docs.sample_sources())
    session.commit()
    client = sign_in({Role.DISTRICT_ADMIN})
    assert _switch(client, "es", "/catalog/").status_code == 303  # kept with the session

    listing = client.get("/catalog/", base_url=BASE)
    assert listing.status_code == 200 and '<html lang="es-US"' in listing.text
    assert "Microcredenciales" in listing.text and "Gestionar el catálogo del distrito" in listing.text
    assert "Filtrar el catálogo" in listing.text and re.search(r"Unas \d+ horas", listing.text)

    slug = re.search(r'href="/catalog/mc/([a-z0-9-]+)', listing.text).group(1)
    mc = client.get(f"/catalog/mc/{slug}", base_url=BASE)
    assert mc.status_code == 200
    assert "1. Competencia" in mc.text and "6. Rúbrica de evaluación" in mc.text and "“todavía no”" in mc.text
    assert "Editar esta microcredencial" in mc.text and "Intentos:" in mc.text

    manage = client.get("/catalog/manage", base_url=BASE)
    assert manage.status_code == 200
    assert "Catálogo del distrito" in manage.text and "Reglas del distrito" in manage.text
    assert "¿Retirar “" in manage.text and "Los docentes ya no podrán comenzarla" in manage.text
    assert "Publicado" in manage.text and "Guardar reglas" in manage.text

    refused = client.post("/catalog/manage/edit", base_url=BASE, data={
        "csrf_token": client.csrf, "title": "", "summary": "x", "grade_band": "K-12", "effort_hours": "muchas",
        "policy_attempts": "0"})
    assert refused.status_code == 400
    assert "No se pudo guardar el formulario. Corrija lo siguiente y vuelva a guardar:" in refused.text
    assert "Escriba un título." in refused.text and "Agregue al menos una tarea" in refused.text
    assert "La dedicación debe ser un número entero de horas, como 10." in refused.text
    assert "Nombre corto (slug)" in refused.text and "Guardar borrador" in refused.text
    assert "Regla del distrito:" in refused.text and "Markdown: una línea en blanco" in refused.text
    assert 'value="Todavía no"' in refused.text  # a new criterion's level labels, in the editor's language

    for page in (listing, mc, manage, refused):
        text = " ".join(_text(page).split())
        assert [phrase for phrase in CATALOG_ENGLISH if re.search(rf"\b{re.escape(phrase)}(?![a-z])", text)] == []
        assert _english_left(page) == []


def test_the_persons_choice_outlives_the_session_and_wins_over_the_platforms_locale(client, signer, registration,
                                                                                   session):
    from lti_tool.people.models import User

    english = {CLAIM + "launch_presentation": {"locale": "en"}}
    _launch(client, signer, roles=[LIS + "membership#Learner"], **english)
    assert _switch(client, "es").status_code == 303
    assert session.scalar(select(User.preferred_locale)) == "es_US"
    _launch(client, signer, roles=[LIS + "membership#Learner"], **english)  # a new launch, Canvas still in English
    assert "Le damos la bienvenida" in client.get("/", base_url=BASE).text
