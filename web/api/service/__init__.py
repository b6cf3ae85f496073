"""The service desk's API: consultations (booked and talk-now), the queue, messages left,
the associate's day and hours, threads. Importing a module registers its routes."""
