"""The service desk: threads, the one routing engine, automatic answers.

Consultations become one feature here; the booking and talk-now modules
(`sessions/booking.py`, `sessions/queue.py`) move in later, the queue already
routes through `routing`.
"""
