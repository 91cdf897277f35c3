"""Command groups of the ``qinglang`` command line, one module a group.

``qinglang.cli`` holds the top-level commands (scan, ingest, explain, eval, train,
version) and registers each group here with ``app.add_typer``. What every command
shares (exit statuses, the ``--db`` option, error printing) is in
:mod:`qinglang.commands.common`.
"""
