"""The blueprint of the administration pages: users, groups, and every user's own password."""

from flask import Blueprint

bp = Blueprint("core_admin", __name__)
