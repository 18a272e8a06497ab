from __future__ import annotations

from typing import NoReturn

from django.http import Http404, HttpRequest

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm


def not_found(request: HttpRequest) -> NoReturn:
    """What a user gets for something they may not see: the same as for nothing at all."""
    raise Http404("Not found")


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a view behind @login_required or an authenticated API."""
    user = request.user
    if not isinstance(user, User):
        raise Http404("Not found")
    return user


def need_perm(request: HttpRequest, perm: Perm) -> None:
    """A page a role may not use answers like one that does not exist."""
    if not user_has_perm(request.user, perm):
        not_found(request)
