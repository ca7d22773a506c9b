"""The admin web dashboard: programme staff and pendamping, logged in, on the same database."""
