"""Who may see and do what in the back office: the one place every organizer view goes through.

`@scoped(role)` signs the user in (or sends them to the login page), loads the organizer
through the user's membership and the event through what that membership may see, then checks
the role. Anything outside the user's reach is a 404, exactly like something that does not
exist; a visible object with too small a role is a 403.

- viewer: sees everything of the events it may see.
- manager: also acts on invoices, customers and orders.
- owner: also event settings; with every event in reach, API tokens and members too
  (those reach across all events, so an event-limited owner may not manage them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import g, request, url_for
from flask_login import current_user, login_required

from ..errors import ForbiddenError
from ..i18n import _
from ..models import Event, Membership, Organizer, Role
from ..services import permissions
from ..services.audit import Actor


@dataclass(frozen=True)
class Scope:
    membership: Membership
    event: Event | None = None

    @property
    def organizer(self) -> Organizer:
        return self.membership.organizer

    @property
    def actor(self) -> Actor:
        return Actor.user(current_user)

    def can(self, role: Role | str) -> bool:
        return self.membership.has_role(role)

    @property
    def can_administer(self) -> bool:
        """Tokens and members: owners who see every event."""
        return self.can(Role.OWNER) and self.membership.all_events


# What an archived event still accepts (everything else posted to it is refused).
READ_ONLY_EXEMPT = frozenset({"organizer.event_restore"})


def scoped(role: Role = Role.VIEWER, *, administer: bool = False):
    """Decorate a view taking `organizer` (and optionally `event`) slugs from its URL.

    The view receives `scope` instead of the slugs. `administer=True` marks organizer-wide
    administration (tokens, members): owner role and every event in reach.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(organizer: str, event: str | None = None, **kwargs):
            membership = permissions.membership_for(current_user, organizer)
            found = (permissions.event_in_scope(membership, membership.organizer_id, event)
                     if event is not None else None)
            permissions.require_role(membership, role)
            scope = Scope(membership=membership, event=found)
            if administer and not scope.can_administer:
                raise ForbiddenError(_("Only owners who see every event may manage this."))
            g.scope = scope
            if (found is not None and found.archived and request.method == "POST"
                    and request.endpoint not in READ_ONLY_EXEMPT):
                from ..unit_of_work import RefusedError

                raise RefusedError(_("This event is archived and read-only."),
                                   to=url_for("organizer.event_settings", organizer=organizer,
                                              event=event)
                                   if scope.can(Role.OWNER) else url_for("organizer.dashboard"))
            return view(scope, **kwargs)

        return wrapper

    return decorator
