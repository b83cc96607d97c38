"""Mutation result unions: the success type(s) plus every standard error type."""

from typing import Annotated, Any, Union

import strawberry

from backend.graphql.errors import ERROR_TYPES


def result_union(name: str, *success: type) -> Any:
    return Annotated[Union[(*success, *ERROR_TYPES)], strawberry.union(name)]
