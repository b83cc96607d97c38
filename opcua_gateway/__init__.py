"""The OPC UA gateway process for locker hardware (issue 4). Imports nothing of backend, tenants or plugins."""
