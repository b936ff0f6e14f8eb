"""The pytest plugin (entry point :mod:`.plugin`): options, marker, fixtures, job files, the smoke runner, reports."""
