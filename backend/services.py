"""The collaborators a web or worker process hands to its resolvers and actors."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from backend.jobs.queue import JobQueue
from backend.settings import Settings
from plugins.registry import PluginRegistry
from tenants.database import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    redis: Redis
    jobs: JobQueue
    plugins: PluginRegistry
