"""The task API describes itself in the installation's OpenAPI document."""

from core.testing import logged_in


def test_the_openapi_document_lists_the_task_api(app):
    spec = logged_in(app, "georgi").get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert "post" in paths["/api/v1/tasks/{task_id}/transitions"]
    assert "post" in paths["/api/v1/tasks/{task_id}/attachments"]
    assert "get" in paths["/api/v1/tasks/{task_id}/attachments/{attachment_id}"]
    assert "get" in paths["/api/v1/commitment-types"]
