"""Staff accounts over the API: invite (an e-mail with a link to set one's own password),
revoke an invitation, change a role, deactivate or reactivate. Each view calls the gate
and the action of sessions/accounts, as the admin pages do."""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale

from sessions.accounts import do_set_role, do_set_user_active, invitations
from sessions.errors import N_, NotFound
from sessions.models import Brand, Role, StaffInvitation, User
from web.api import bp
from web.api.schemas import ActiveIn, AssociateIn, InvitationOut, RoleIn, StaffOut
from web.api.spec import api_route
from web.auth.mails import flush
from web.db import db
from web.identity import current_actor


def _invitation_out(invitation: StaffInvitation) -> InvitationOut:
    assert invitation.id is not None
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        name=invitation.name,
        role=invitation.role.value,
        state=invitations.state_of(invitation),
        sent=invitation.sent_at is not None,
        expires_at=invitation.expires_at,
    )


def _staff_out(user: User) -> StaffOut:
    assert user.id is not None
    return StaffOut(
        id=user.id, name=user.name, email=user.email, role=user.role.value, is_active=user.is_active
    )


def _user(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None or user.role is Role.PLATFORM_ADMIN:
        raise NotFound(N_("No staff member with id %(id)s."), params={"id": user_id})
    return user


@api_route(
    bp,
    "/brands/<int:brand_id>/associates",
    "POST",
    body=AssociateIn,
    response=InvitationOut,
    status=201,
    tag="associates",
    summary="Invite staff (they set their own password from the e-mailed link)",
    auth="brand_admin",
    example={"email": "new.associate@example.com", "name": "Léa Roux", "store_ids": [1]},
)
def invite_staff(brand_id: int, body: AssociateIn) -> InvitationOut:
    if db().get(Brand, brand_id) is None:
        raise NotFound(N_("No brand with id %(id)s."), params={"id": brand_id})
    invitation = invitations.do_invite(
        db(),
        current_actor(),
        brand_id=brand_id,
        email=body.email,
        name=body.name,
        role=Role(body.role),
        secret=current_app.config["SECRET_KEY"],
        store_ids=body.store_ids,
        languages=body.languages,
        specialities=body.specialities,
        locale=str(get_locale() or "en"),
    )
    flush()
    return _invitation_out(invitation)


@api_route(
    bp,
    "/invitations/<int:invitation_id>/revoke",
    "POST",
    tag="associates",
    summary="Revoke an invitation not used yet (its link stops working)",
    auth="brand_admin",
)
def revoke_invitation(invitation_id: int) -> None:
    invitation = db().get(StaffInvitation, invitation_id)
    if invitation is None:
        raise NotFound(N_("No invitation with id %(id)s."), params={"id": invitation_id})
    invitations.do_revoke(db(), current_actor(), invitation)


@api_route(
    bp,
    "/users/<int:user_id>/role",
    "PUT",
    body=RoleIn,
    response=StaffOut,
    tag="associates",
    summary="Make staff an associate or a brand admin (their sessions end)",
    auth="brand_admin",
    example={"role": "brand_admin"},
)
def set_role(user_id: int, body: RoleIn) -> StaffOut:
    user = _user(user_id)
    do_set_role(db(), current_actor(), user, role=Role(body.role))
    return _staff_out(user)


@api_route(
    bp,
    "/users/<int:user_id>/active",
    "PUT",
    body=ActiveIn,
    response=StaffOut,
    tag="associates",
    summary="Deactivate (every session and socket ends at once) or reactivate staff",
    auth="brand_admin",
    example={"active": False},
)
def set_active(user_id: int, body: ActiveIn) -> StaffOut:
    user = _user(user_id)
    do_set_user_active(db(), current_actor(), user, active=body.active)
    return _staff_out(user)
