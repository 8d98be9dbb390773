"""The module's blueprints: pages under /tasks (with the board's script), the JSON API under
/api/v1/tasks."""

from flask import Blueprint

bp = Blueprint(
    "crm_tasks",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
    url_prefix="/tasks",
)
api = Blueprint("crm_tasks_api", __name__, url_prefix="/api/v1")
