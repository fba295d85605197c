"""Install paths for district IT: the Canvas developer-key JSON and LTI Dynamic Registration."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("lti_install", __name__, url_prefix="/lti")
