"""Service to shoppers: threads, routing, consultations, automatic answers."""
