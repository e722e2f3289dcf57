"""Switchboard router: queues, agents, offers and deadlines."""
