"""Long-running services: the servers that run all day behind nginx.

Each service is a package of its own (``services/ideas/``), configured from
the environment, run by gunicorn in production (a sample config per service
in deploy/) and by an invoke task in development. Build-time code (plugins/)
never imports from here: the build reads a service over HTTP only.
"""
