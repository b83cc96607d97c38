"""Samverka's web and worker processes: app factory, settings, CLI, GraphQL, jobs."""
