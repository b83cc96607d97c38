"""Mutation result unions: the success type(s) plus every standard error type.

The kernel spells a union out in the return annotation, so that mypy can read it::

    -> Annotated[LoginSuccess | Errors, strawberry.union("LoginResult")]

(``Errors`` from ``backend.graphql.errors``). ``result_union("LoginResult", LoginSuccess)`` builds the
same union at run time and stays for plugins, but mypy cannot read a call in an annotation.
"""

from typing import Annotated, Any, Union

import strawberry

from backend.graphql.errors import ERROR_TYPES


def result_union(name: str, *success: type) -> Any:
    return Annotated[Union[(*success, *ERROR_TYPES)], strawberry.union(name)]
