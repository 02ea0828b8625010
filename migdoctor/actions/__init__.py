"""The acting layer: steps that do something on the hosts (a port probe, later the test
migration). Each leaves nothing behind and returns its result as a fact for the checks."""
