"""``strawberry.field``, ``mutation`` and ``subscription`` for resolvers, typed for ``mypy --strict``.

Called with arguments (``@strawberry.field(description=...)``), strawberry types them as returning ``Any``
so that the same call also serves as a class attribute's default; mypy then calls every resolver they
decorate untyped (strawberry-graphql/strawberry#1929). At run time these are strawberry's own functions;
for attribute defaults, keep using ``strawberry.field(...)``.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import strawberry

if TYPE_CHECKING:
    from strawberry.types.field import StrawberryField

    Decorator = Callable[[Callable[..., object]], StrawberryField]

    def field(*, description: str) -> Decorator: ...
    def mutation(*, description: str) -> Decorator: ...
    def subscription(*, description: str) -> Decorator: ...

else:
    field = strawberry.field
    mutation = strawberry.mutation
    subscription = strawberry.subscription
