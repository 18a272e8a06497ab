from __future__ import annotations

from typing import NoReturn

from django.http import Http404, HttpRequest

from jiuzhu.accounts.models import User


def not_found(request: HttpRequest) -> NoReturn:
    """What a user gets for something they may not see: the same as for nothing at all."""
    raise Http404("Not found")


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a view behind @login_required or an authenticated API."""
    user = request.user
    if not isinstance(user, User):
        raise Http404("Not found")
    return user
