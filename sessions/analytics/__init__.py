"""Analytics: facts recorded once, as they happen, and every figure computed from them.

- ``events``: the ``do_record_*`` actions that store viewing facts (join, heartbeat,
  leave, product click) and the rows other actions add inside their own commit
  (add-to-bag, hand-off, pin, hearts);
- ``orders``: orders and refunds confirmed by the brand's shop through a signed
  webhook, and their attribution to a show or consultation;
- ``metrics``: per show, per associate and per brand over a period, computed from
  the stored rows, never from in-memory counters, so they hold across web nodes
  and restarts. Every definition is written in docs/analytics.md.
"""
