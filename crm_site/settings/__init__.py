"""Settings are split by environment: base (shared), local, test and production.

Each module reads its configuration from environment variables (see README.md).
"""
