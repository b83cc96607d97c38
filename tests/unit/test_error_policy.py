"""Errors carry stable codes; unexpected ones are masked so nothing internal leaks."""

from __future__ import annotations

from graphql import GraphQLError

from backend.graphql.errors import MASKED, shape_error
from backend.lib import NotFound


def test_a_domain_error_keeps_its_message_and_gets_its_code() -> None:
    error = shape_error(GraphQLError("x", original_error=NotFound("User", "42")))
    assert error.extensions == {"code": "NOT_FOUND"}


def test_an_unexpected_error_is_masked_and_its_details_do_not_leak() -> None:
    secret = RuntimeError("connection to 10.0.0.5 failed: password=hunter2")
    error = shape_error(GraphQLError(str(secret), original_error=secret))
    assert error.message == MASKED and error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(error.formatted)


def test_a_malformed_request_is_a_bad_request() -> None:
    assert shape_error(GraphQLError("Syntax Error")).extensions == {"code": "BAD_REQUEST"}
