"""Page sizes are capped and cursors are opaque but checked."""

from __future__ import annotations

import pytest

from backend.lib import MAX_PAGE_SIZE, Page, PageRequest, ValidationFailed


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE_SIZE + 1])
def test_a_page_size_outside_the_cap_is_refused_with_the_field_named(first: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PageRequest(first=first)
    assert [f.field for f in caught.value.fields] == ["first"]


def test_a_cursor_round_trips_and_the_extra_row_tells_there_is_more() -> None:
    request = PageRequest(first=2)
    page = Page.from_rows(["x", "y", "z"], ["1", "2", "3"], request)
    assert list(page.items) == ["x", "y"] and page.has_next
    assert PageRequest(first=2, after=page.cursors[-1]).after_key() == "2"


def test_a_cursor_that_was_never_given_out_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        PageRequest(first=2, after="%%%not-base64").after_key()
