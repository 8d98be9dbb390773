"""Administration of users and groups (``core.users``), and every user's own password.

Forms are validated by the marshmallow schemas of ``forms``; a refused form is shown again with a
message per field and status 400, and nothing is written. Rotating ``User.session_token``
(deactivation, a new password) ends every session and "remember me" cookie of the user: see
``core.auth.load_user``.
"""

from core.admin import groups, users  # noqa: F401 - importing them registers their routes
from core.admin.blueprint import bp

__all__ = ["bp"]
