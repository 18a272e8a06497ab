from django.http import HttpRequest
from ninja import Router, Schema

from jiuzhu.accounts.roles import ROLE_PERMS

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    region_code: str | None
    permissions: list[str]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        username=user.username,
        display_name=user.display_name,  # type: ignore[union-attr]
        role=user.role,  # type: ignore[union-attr]
        region_code=user.region_id,  # type: ignore[union-attr]
        permissions=sorted(ROLE_PERMS.get(user.role, frozenset())),  # type: ignore[union-attr]
    )
