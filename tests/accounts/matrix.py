"""Staff accounts' resources for tests/test_access_matrix.py: the world associate's user
(role and active are changed on them) and a pending invitation of brand A."""

from __future__ import annotations

from sqlmodel import Session

from sessions.accounts import invitations
from sessions.models import AssociateProfile, Brand, Role
from tests.factories import OPERATOR

SECRET = "test-secret-key"


def account_ids(
    session: Session, brand: Brand, associate: AssociateProfile
) -> dict[str, int | None]:
    assert brand.id is not None
    invitation = invitations.do_invite(
        session,
        OPERATOR,
        brand_id=brand.id,
        email=f"invited-{brand.id}@example.com",
        name="Invited",
        role=Role.BRAND_ADMIN,
        secret=SECRET,
    )
    return {"user_id": associate.user_id, "invitation_id": invitation.id}
