"""What Microcred tells a platform about itself, in both install paths (the developer-key JSON and Dynamic
Registration): its name, description, privacy level and the custom variables it asks Canvas to fill in.

Privacy level ``public``: Microcred needs names (reviewers and school administrators must know whose
evidence they read and who reviewed it) and emails (the recipient identity of the Open Badges it issues,
hashed as Open Badges 2.0 asks, and the address for notifications). Canvas has no level that shares both
short of ``public`` (``name_only`` drops the email, ``email_only`` the name). Neither is ever logged.
The scopes it asks for are ``services.scopes.TOOL_SCOPES``.
"""
from __future__ import annotations

TITLE = "Microcred"
DESCRIPTION = ("Educator micro-credentials: teachers show a competency with evidence from their classroom, "
               "colleagues review it, a school administrator signs off, and Canvas records the completion.")
PRIVACY_LEVEL = "public"
# Canvas substitutes these per launch; numbers arrive as strings, an unsupported variable arrives literally.
CUSTOM_FIELDS = {
    "canvas_user_id": "$Canvas.user.id",
    "canvas_course_id": "$Canvas.course.id",
    "canvas_user_sis_id": "$Canvas.user.sisSourceId",
    "canvas_section_ids": "$Canvas.course.sectionIds",
}
