"""GitHub access: a REST client (``client``) and a stand-in GitHub API server (``stand_in``)
that tests and demos run on loopback instead of the real service."""
