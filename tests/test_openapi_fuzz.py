"""Schema-driven fuzzing of every HTTP route from the app's own OpenAPI description."""

import schemathesis
from hypothesis import settings

from app.web.app import create_app

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(max_examples=40, deadline=None)
def test_no_route_answers_with_a_server_error(case):
    response = case.call()
    assert response.status_code < 500, response.text
