"""Background jobs: the dramatiq broker, the job queue the web uses, and the worker."""
