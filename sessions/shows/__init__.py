"""Shows, the brand's scheduled live events (docs/shows.md).

- ``lifecycle``: creating and editing a show, and every move of its state (draft,
  scheduled, live, ended, replay published or hidden, cancelled), each one action that
  refuses the others with a 409, each gated in ``sessions.access``;
- ``reminders``: "remind me" — the e-mails before the start and at "we are live",
  claimed exactly once across nodes, and the unsubscribe link;
- ``calendar``: the show's .ics (the page's "add to calendar" and the reminder e-mails).

What happens inside a show's room (chat, pins, offers) is ``sessions.live``.
"""
