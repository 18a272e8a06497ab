from __future__ import annotations

from typing import NoReturn

from django.http import Http404, HttpRequest


def not_found(request: HttpRequest) -> NoReturn:
    """What a user gets for something they may not see: the same as for nothing at all."""
    raise Http404("Not found")
