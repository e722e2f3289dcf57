"""Development tooling of Switchboard: embedded brokers, the `make run` launcher, `sb-topic`
and the pytest plugin. The services never import it; their image does not install it."""
