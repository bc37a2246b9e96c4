"""The fleet: every node publishes its live state to the shared PostgreSQL, and hubs show all of them.

``live`` turns a snapshot into the row a node writes and the hub's view of it, ``publisher`` writes it,
``hub`` keeps every node's latest row in memory, ``local`` stands in for the hub on SQLite, ``query``
answers the fleet API (and Prometheus' service discovery) from memory, ``stream`` streams one node,
``alerts`` evaluates the fleet rules on one hub at a time, and ``service`` assembles them.
"""
