"""The embedded load balancer: a reverse proxy with target groups, health checks and a WAF,
run by the orchestrator as a process of its own (see ``server``)."""
